# SPDX-License-Identifier: Apache-2.0
# carbontree: build on Debian 12, run on Debian 12 slim as an unprivileged user.
#   docker build -t carbontree .
#   docker run -p 8080:8080 -v carbontree-data:/data carbontree
FROM debian:12 AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev \
       libsodium-dev libyaml-dev liblz4-dev libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt openapi.yaml ./
COPY cmake cmake
COPY core core
COPY db db
COPY api api
COPY server server
COPY migrations migrations
COPY reference-data reference-data
COPY web web
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
    && cmake --build build -j"$(nproc)" \
    && strip build/carbontree

FROM debian:12-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       libmicrohttpd12 libjansson4 libsqlite3-0 libsodium23 libyaml-0-2 liblz4-1 libpq5 curl ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin carbontree \
    && mkdir -p /data && chown carbontree:carbontree /data
COPY --from=build /src/build/carbontree /usr/local/bin/carbontree
COPY LICENSE NOTICE /usr/share/doc/carbontree/
COPY reference-data/licenses /usr/share/doc/carbontree/reference-data-licenses
USER carbontree
VOLUME ["/data"]
EXPOSE 8080
ENV CARBONTREE_LISTEN=0.0.0.0 \
    CARBONTREE_PORT=8080 \
    CARBONTREE_DB=/data/carbontree.db \
    CARBONTREE_AUTO_MIGRATE=1
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["carbontree"]
CMD ["serve"]
