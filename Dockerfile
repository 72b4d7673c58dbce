# Parley in a container: `deno serve --parallel` (one isolate per core) as a non-root user, the
# KV file on a volume at /data. Build and run:
#   docker build -t parley .            (podman: add --format docker to keep the HEALTHCHECK)
#   docker run -p 8000:8000 -v parley-data:/data parley
# See docs/operations.md.
ARG DENO_VERSION=2.9.6

# 1. Assets: Tailwind CSS and the island bundles into _build/. Needs the npm registry only.
FROM docker.io/denoland/deno:${DENO_VERSION} AS build
ENV DENO_DIR=/deno-dir DENO_NO_UPDATE_CHECK=1
WORKDIR /app
COPY . .
# A machine whose egress goes through a TLS-inspecting proxy passes that proxy's CA bundle as
# a build secret (`--secret id=ca,src=/etc/ssl/certs/ca-certificates.crt`); it is used for
# the downloads only and never lands in an image layer.
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export DENO_CERT=/run/secrets/ca; fi; \
    deno task build

# 2. Runtime dependencies only, installed for the server and the operator scripts so the
#    container starts without touching the network. The build and test tools (Tailwind, its
#    native CSS engine, playwright-core) are dropped from the import map first, and the npm
#    cache keeps only its metadata afterwards (node_modules holds copies of the packages; the
#    metadata spares a lookup at start): about 100 MB less.
FROM docker.io/denoland/deno:${DENO_VERSION} AS deps
ENV DENO_DIR=/deno-dir DENO_NO_UPDATE_CHECK=1
WORKDIR /app
COPY --from=build /app /app
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export DENO_CERT=/run/secrets/ca; fi; \
    rm -rf node_modules \
 && deno eval 'const c = JSON.parse(Deno.readTextFileSync("deno.json")); \
      for (const k of ["playwright-core", "tailwindcss", "@tailwindcss/cli"]) delete c.imports[k]; \
      Deno.writeTextFileSync("deno.json", JSON.stringify(c, null, 2));' \
 && deno install --entrypoint main.ts scripts/serve.ts scripts/admin.ts \
      scripts/export.ts scripts/import.ts scripts/healthcheck.ts \
 && find /deno-dir/npm -type f ! -name registry.json -delete

# 3. The runtime image.
FROM docker.io/denoland/deno:${DENO_VERSION}
ENV DENO_DIR=/deno-dir DENO_NO_UPDATE_CHECK=1 \
    HOST=0.0.0.0 PORT=8000 KV_PATH=/data/parley.kv
WORKDIR /app
COPY --from=deps /deno-dir /deno-dir
COPY --from=deps /app /app
RUN mkdir -p /data && chown deno:deno /data
USER deno
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["deno", "run", "--allow-net=127.0.0.1", "--allow-env=PORT", "scripts/healthcheck.ts"]
# Exec form: deno is PID 1 and receives SIGTERM itself; scripts/serve.ts passes it on to
# `deno serve` as the drain signal and makes sure the server is gone within 5 s.
ENTRYPOINT ["deno", "run", "--allow-all", "scripts/serve.ts"]
