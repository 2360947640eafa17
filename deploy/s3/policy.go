// Package s3policy holds the bucket policy of bucket-policy.json, which
// `casefile s3 setup` applies: three credentials, each allowed only its part.
package s3policy

import (
	_ "embed"
	"strings"
)

//go:embed bucket-policy.json
var bucketPolicy string

// Bucket is the bucket policy for bucket and the app's, records' and
// anchors' access keys.
func Bucket(bucket, app, records, anchors string) string {
	return strings.NewReplacer("${BUCKET}", bucket, "${APP_ACCESS_KEY}", app, "${RECORDS_ACCESS_KEY}", records,
		"${ANCHOR_ACCESS_KEY}", anchors).Replace(bucketPolicy)
}
