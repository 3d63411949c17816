# The Gemini REST stub of the test kit in a container, on the Node stand-in.
FROM node:22-bookworm-slim
COPY gemini-stub.mjs /stub/gemini-stub.mjs
USER 1000:1000
EXPOSE 8080
CMD ["node", "/stub/gemini-stub.mjs"]
