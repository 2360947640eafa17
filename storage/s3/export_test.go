package s3

import (
	"context"

	"github.com/minio/minio-go/v7"
)

// ETag is the ETag of key's current version; a multipart upload's ends in
// -N, N its parts.
func (s *Store) ETag(ctx context.Context, key string) (string, error) {
	st, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	return st.ETag, err
}
