# The relops container image. Built on Debian; runs on a distroless-style root filesystem (no
# shell, no package manager): the binary, its shared libraries, tzdata and the CA bundle, as
# UID 65532. image/build-oci-layout.sh builds the same image without a container engine.
#
#   docker build -t relops:0.1.0 .

FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake ninja-build g++ binutils pkg-config \
      libboost1.81-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev libhowardhinnant-date-dev \
      tzdata ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt CMakePresets.json ./
COPY operator operator
COPY controllers controllers
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DRELOPS_BUILD_TESTS=OFF \
 && cmake --build build --target relops
COPY image/rootfs.sh image/rootfs.sh
RUN image/rootfs.sh build/app/relops /rootfs

FROM scratch
COPY --from=build /rootfs /
USER 65532:65532
WORKDIR /home/nonroot
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/relops", "run"]
