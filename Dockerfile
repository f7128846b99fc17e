# tb-load-lab in a container, for a jump host next to ThingsBoard. Not exercised by CI (no Docker
# engine there): keep it minimal. Build: docker build -t tb-load-lab .  Usage: docs/scaling.md, "Container".
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsc -p tsconfig.json \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf dist/test dist/bench test bench .ci .vscode

FROM node:24-slim
ENV NODE_ENV=production \
    DATA_DIR=/app/data \
    METRICS_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app /app
# `tblab` on PATH for `docker run --entrypoint tblab IMAGE report`; data/ belongs to the non-root user
RUN chmod +x dist/src/cli/main.js \
 && ln -s /app/dist/src/cli/main.js /usr/local/bin/tblab \
 && mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 5050
ENTRYPOINT ["tblab", "suite"]
