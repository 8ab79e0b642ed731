# A minimal image of the mts binary: the catalogue, features and FHIR schema are compiled in.
#   docker build -t mts .
#   docker run --rm -e MTS_TOKEN -v "$PWD/reports:/reports" mts run --target https://… --out /reports/run-1
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin mts && strip target/release/mts

FROM debian:bookworm-slim
# CA roots for the platform verifier; nothing else is needed at run time (no OpenSSL).
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 mts
COPY --from=build /src/target/release/mts /usr/local/bin/mts
USER mts
WORKDIR /work
ENTRYPOINT ["mts"]
CMD ["--help"]
