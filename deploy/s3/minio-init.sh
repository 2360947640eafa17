#!/bin/sh
# Sets up casefile's bucket and credentials on MinIO, as its root, once (docker-compose.yml's s3-init; safe to run
# again): the bucket with Object Lock, and three users with the least each needs (deploy/s3/minio/*.json):
#   CASEFILE_S3_ACCESS_KEY          the app: stores and reads records, reads anchors; never deletes, bypasses
#                                   governance or touches a legal hold (the API has only this one)
#   CASEFILE_S3_RECORDS_ACCESS_KEY  the workers' destruction, legal holds and retention changes
#   CASEFILE_ANCHOR_S3_ACCESS_KEY   writes the audit anchors (compliance mode), and nothing else
set -eu
mc alias set cf http://s3:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
mc mb --ignore-existing --with-lock cf/casefile
user() { # NAME ACCESS SECRET
	mc admin policy create cf "$1" "/deploy/minio/$1.json"
	mc admin user add cf "$2" "$3"
	mc admin policy attach cf "$1" --user "$2" 2>/dev/null || true # already attached
}
user casefile-app "$CASEFILE_S3_ACCESS_KEY" "$CASEFILE_S3_SECRET_KEY"
user casefile-records "$CASEFILE_S3_RECORDS_ACCESS_KEY" "$CASEFILE_S3_RECORDS_SECRET_KEY"
user casefile-anchors "$CASEFILE_ANCHOR_S3_ACCESS_KEY" "$CASEFILE_ANCHOR_S3_SECRET_KEY"
echo "s3-init: bucket casefile with Object Lock, users for the app, records and anchors"
