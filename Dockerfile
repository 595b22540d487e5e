# One image recipe for the three services: build with the service's package
# as SERVICE, from the repository root (go.work spans every module):
#   docker build --build-arg SERVICE=stock-service --build-arg PORT=8081 \
#     --build-arg REVISION=$(git rev-parse --short=12 HEAD) .
# (.git stays out of the context: REVISION is what saga_build_info says.)
FROM golang:1.26-alpine AS build
ARG SERVICE=order-service
ARG REVISION=unknown
WORKDIR /src
# Module files first so the dependency layer is cached across source edits.
# The go.su[m] globs copy a go.sum only where one exists.
COPY go.work go.work.su[m] ./
COPY contract/go.mod contract/go.su[m] contract/
COPY messaging/go.mod messaging/go.su[m] messaging/
COPY messaging/cmd/sagactl/go.mod messaging/cmd/sagactl/go.su[m] messaging/cmd/sagactl/
COPY migrations/go.mod migrations/go.su[m] migrations/
COPY order-service/go.mod order-service/go.su[m] order-service/
COPY stock-service/go.mod stock-service/go.su[m] stock-service/
COPY payment-service/go.mod payment-service/go.su[m] payment-service/
# Per module with GOWORK=off: fetches only what each go.mod requires, not the
# whole workspace graph (goose's optional drivers).
RUN for m in contract messaging messaging/cmd/sagactl migrations order-service stock-service payment-service; do \
      (cd "$m" && GOWORK=off go mod download) || exit 1; \
    done
COPY . .
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags="-s -w -X github.com/purchase-saga/messaging/service.linkedRevision=$REVISION" \
      -o /out/service "./$SERVICE" && \
    CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/sagactl ./messaging/cmd/sagactl

# A small final image: Alpine (for wget in the health check), one static
# binary and sagactl, a non-root user.
FROM alpine:3.20
ARG PORT=8080
ENV HTTP_ADDR=0.0.0.0:${PORT}
EXPOSE ${PORT}
RUN adduser -D -H -u 10001 app
COPY --from=build /out/service /out/sagactl /app/
USER 10001
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=6 \
  CMD wget -qO- "http://127.0.0.1:${HTTP_ADDR##*:}/readyz" >/dev/null || exit 1
ENTRYPOINT ["/app/service"]
