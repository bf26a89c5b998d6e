# syntax=docker/dockerfile:1
# The bot for a container host (Azure App Service for Containers, Azure Container Apps, ...).
# Three stages: build compiles TypeScript; deps installs the production dependencies only
# (better-sqlite3 compiles there when no prebuilt binary fits); the runtime image has no compiler,
# no devDependencies, runs as the unprivileged "node" user and starts with `npm run start:prod`.
# test/e2e/production-install.test.ts builds what this last stage copies, from a fresh copy of the
# repository, and runs its start command and HEALTHCHECK.

FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build

FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json package-lock.json ./
COPY cards ./cards
COPY content ./content
# SQLite (SINGLE_INSTANCE=true) writes here: mount a volume on /app/data to keep it across restarts.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3978
# Alive = /healthz answers 200. Readiness (the database) is /readyz, for the platform's own probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3978) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["npm", "run", "start:prod"]
