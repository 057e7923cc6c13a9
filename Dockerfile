# loadplan container image: a static binary (CGO_ENABLED=0) on an empty base, with the example
# plans in /plans. Build: docker build -t loadplan:local .
# Run:   docker run --rm loadplan:local apply --demo /plans/smoke.hcl

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/loadplan ./cmd/loadplan \
 && mkdir -p /out/results

FROM scratch
# CA certificates for https targets; the binary needs nothing else.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/loadplan /usr/local/bin/loadplan
COPY --from=build --chown=65532:65532 /out/results /results
COPY plans /plans
USER 65532:65532
WORKDIR /results
# Prometheus listener of `--out prometheus=0.0.0.0:9646`; the demo backend of `loadplan demo`.
EXPOSE 9646 8000
ENTRYPOINT ["/usr/local/bin/loadplan"]
CMD ["help"]
