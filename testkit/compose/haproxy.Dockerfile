# The proxy that stands in for Traefik in the Compose test: Debian's HAProxy with a
# configuration derived from the Traefik labels (testkit/src/compose-routes.ts).
FROM ai-chat-standin/bookworm:base
RUN apt-get update && apt-get install -y --no-install-recommends haproxy wget \
    && rm -rf /var/lib/apt/lists/*
COPY haproxy.cfg /etc/haproxy/haproxy.cfg
EXPOSE 80
CMD ["haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg"]
