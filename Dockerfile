# syntax=docker/dockerfile:1
#
# The gateway's container image: built in a full Rust image, run in a
# distroless one (glibc, libgcc, CA certificates, no shell, no package
# manager) as the non-root user 65532.
#
#   docker build -t ontap-grpc-gateway .
#
# The runtime listens on :50051 (gRPC, h2c) and serves metrics on :9090; it
# reads its clusters from /etc/ontap-gateway/clusters.toml (deploy/ has a
# Kubernetes ConfigMap of that file and the rest of a deployment).

# Cargo.toml's rust-version: the locked tonic 0.14.9 needs rustc 1.88.
# The full image, not -slim: tikv-jemalloc-sys builds jemalloc with make.
FROM rust:1.88-bookworm AS build
WORKDIR /src
# Cargo.toml's release profile keeps line tables (file:line in backtraces) and
# so a binary of about 75 MB; `--build-arg CARGO_PROFILE_RELEASE_DEBUG=none`
# builds one of about 15 MB without them.
ARG CARGO_PROFILE_RELEASE_DEBUG=line-tables-only
COPY . .
# The registry and target directories are BuildKit caches, so a rebuild after
# a source change compiles only what changed; the binary is copied out of the
# cache because a cache mount is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --bin ontap-grpc-gateway \
    && cp target/release/ontap-grpc-gateway /ontap-grpc-gateway

FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="ontap-grpc-gateway" \
      org.opencontainers.image.description="A typed gRPC gateway onto the NetApp ONTAP REST API" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /ontap-grpc-gateway /usr/local/bin/ontap-grpc-gateway
# Numeric, so that Kubernetes' runAsNonRoot can check it without a passwd lookup.
USER 65532:65532
# Listen where EXPOSE says. Beyond loopback the gateway refuses to start with
# service-account credentials unless callers must authenticate: give it
# --auth-tokens (ONTAP_GATEWAY_AUTH_TOKENS) or --client-ca.
ENV ONTAP_GATEWAY_LISTEN=:50051 \
    ONTAP_GATEWAY_METRICS_LISTEN=0.0.0.0:9090
EXPOSE 50051 9090
ENTRYPOINT ["/usr/local/bin/ontap-grpc-gateway"]
CMD ["serve", "--config", "/etc/ontap-gateway/clusters.toml"]
