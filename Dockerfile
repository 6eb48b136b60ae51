# syntax=docker/dockerfile:1
# Multi-stage, multi-arch build of tokenguard:
#   docker buildx build --platform linux/amd64,linux/arm64 --build-arg VERSION=v0.1.0 -t ghcr.io/tokenguard/tokenguard:v0.1.0 .
# (make docker-image). make image builds the same image without Docker
# (hack/image); hack/image/dockerfile_test.go keeps the two in step.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd/ cmd/
COPY pkg/ pkg/
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/tokenguard ./cmd/webhook

FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/tokenguard /tokenguard
USER 65532:65532
EXPOSE 8443 9090
ENTRYPOINT ["/tokenguard"]
CMD ["serve"]
