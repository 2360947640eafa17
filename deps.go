//go:build tools

// This file pins the modules the project is built on until the code that uses them lands.
package casefile

import (
	_ "github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset"
	_ "github.com/gabriel-vasile/mimetype"
	_ "github.com/gin-gonic/gin"
	_ "github.com/go-pdf/fpdf"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/google/uuid"
	_ "github.com/hibiken/asynq"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/minio/minio-go/v7"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/richardlehane/mscfb"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/net/html"
)
