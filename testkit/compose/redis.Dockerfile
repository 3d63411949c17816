# Stand-in for the Compose file's Redis image: Debian's redis-server (7.0) with the
# official image's layout (/data as working directory, redis-server and redis-cli on PATH).
FROM ai-chat-standin/bookworm:base
RUN apt-get update && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data /usr/local/etc/redis && chown redis:redis /data
WORKDIR /data
USER redis
EXPOSE 6379
CMD ["redis-server"]
