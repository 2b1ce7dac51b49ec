# Tether image: build with `docker build -t tether .` (docker-compose.yml does this for you).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY connectors ./connectors
COPY jobs ./jobs
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# glibc gives each thread that allocates its own malloc arena (up to 8 per core); freed memory stays in
# them. Two arenas keep a long-running process's RSS from creeping (docs/operations.md, Memory).
ENV MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 8080
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["start"]
