# Stand-in for nginxinc/nginx-unprivileged: Debian's nginx as uid 101 on 8080, with the
# official image's paths (/etc/nginx/conf.d/default.conf, /usr/share/nginx/html,
# temp files and the pid under /tmp) and wget for health checks.
FROM ai-chat-standin/bookworm:base
RUN apt-get update && apt-get install -y --no-install-recommends nginx-light wget \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/* /usr/share/nginx/html/* \
    && (getent group 101 || groupadd --system --gid 101 nginx) \
    && (getent passwd 101 || useradd --system --uid 101 --gid 101 --no-create-home nginx) \
    && mkdir -p /etc/nginx/conf.d /usr/share/nginx/html \
    && chown -R 101:101 /etc/nginx/conf.d /usr/share/nginx/html /var/log/nginx /var/lib/nginx
COPY nginx-unprivileged.conf /etc/nginx/nginx.conf
USER 101
EXPOSE 8080
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
