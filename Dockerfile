# casefile: one image for every command; docker-compose.yml runs `migrate`, `serve` and `worker` from it.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The web pages' stylesheets, scripts and images, from the pinned npm packages (npm ci), embedded by the build.
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/* \
	&& scripts/services.sh assets
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/casefile ./cmd/casefile

# debian-slim rather than distroless: the compose healthcheck needs curl, an S3 server behind TLS
# (CASEFILE_S3_SECURE=true) needs the CA certificates, the PDF chronology is set in DejaVu Sans, and the workers
# extract documents' text with poppler's pdftotext and pdftoppm and read scans with Tesseract OCR (English).
FROM debian:bookworm-slim
RUN apt-get update \
	&& apt-get install -y --no-install-recommends ca-certificates curl fonts-dejavu-core \
		poppler-utils tesseract-ocr tesseract-ocr-eng \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin casefile
COPY --from=build /out/casefile /usr/local/bin/casefile
# Numeric, so that runtimes enforcing runAsNonRoot can see it is not root.
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["casefile"]
CMD ["serve"]
