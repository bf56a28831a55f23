# syntax=docker/dockerfile:1
# aepact as a small container image: a static musl binary on distroless/static (no shell, no
# package manager), running as an unprivileged user. distroless/static carries the CA
# certificates that aepact's TLS client reads from the system store.
#
#   docker build -t aepact .
#   docker run --rm -v "$PWD:/work" -e AEP_ORG_ID -e AEP_CLIENT_ID -e AEP_CLIENT_SECRET aepact plan plans/
#
# Pin the base images by digest in your own builds (`docker buildx imagetools inspect IMAGE`).

# Build: Rust on Alpine targets musl, and links statically by default.
FROM rust:1.95-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
# The manifest first, so a source change does not download the dependencies again.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo fetch --locked \
    && rm -rf src
COPY src ./src
RUN cargo build --release --locked --bin aepact \
    && ./target/release/aepact --version \
    && if ldd ./target/release/aepact 2>&1 | grep -q '=>'; then echo "not static" >&2; exit 1; fi

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/target/release/aepact /usr/local/bin/aepact
# 65532: distroless's `nonroot` user. Mount the repository at /work.
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/aepact"]
CMD ["--help"]
