package s3

import (
	"context"
	"io"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/council/casefile"
	"github.com/council/casefile/anchor"
)

// Blobs is the store as ingest uses it (ingest.Blobs and ingest.Lister):
// objects named by key, a write answering with its version id.
type Blobs struct {
	S *Store
	// MaxStream, when set, is the most a stream of unknown length written
	// through Blobs can hold (the largest upload): its parts are then sized
	// for that, not for any stream, so that an upload whose length is not
	// known (a browser's form) holds a 5 MiB part in memory, not 16 MiB.
	MaxStream int64
}

func (b Blobs) Put(ctx context.Context, key string, r io.Reader, size int64, ct string, until time.Time) (string, error) {
	sizedFor := size
	if size < 0 && b.MaxStream > 0 {
		sizedFor = b.MaxStream
	}
	res, err := b.S.put(ctx, key, r, size, partSizeFor(sizedFor), ct, until)
	return res.VersionID, err
}

func (b Blobs) PutChecked(ctx context.Context, key string, body []byte, sum []byte, ct string, until time.Time) (string, error) {
	res, err := b.S.PutChecked(ctx, key, body, sum, ct, until)
	return res.VersionID, err
}

func (b Blobs) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, _, err := b.S.Get(ctx, key, nil)
	return rc, err
}

func (b Blobs) Destroy(ctx context.Context, key string) error { return b.S.Destroy(ctx, key) }

func (b Blobs) List(ctx context.Context, prefix string, fn func(string, time.Time) error) error {
	return b.S.List(ctx, prefix, func(o ObjectInfo) error { return fn(o.Key, o.LastModified) })
}

func (b Blobs) Exists(ctx context.Context, key string) (bool, error) {
	_, err := b.S.Stat(ctx, key)
	if casefile.ErrorKind(err) == casefile.ENotFound {
		return false, nil
	}
	return err == nil, err
}

// Anchors is the store as package anchor uses it. Anchors are locked in
// compliance mode unless Governance is set (an operator's choice for servers
// without compliance mode): no credential, the bucket's root included, can
// delete a compliance-locked version or shorten its lock.
type Anchors struct {
	S          *Store
	Governance bool
}

func (a Anchors) PutAnchor(ctx context.Context, key string, body []byte, sum []byte, until time.Time) (string, error) {
	mode := minio.Compliance
	if a.Governance {
		mode = minio.Governance
	}
	res, err := a.S.putChecked(ctx, key, body, sum, "application/json", mode, until)
	return res.VersionID, err
}

// Versions lists every version under prefix, delete markers left out.
func (a Anchors) Versions(ctx context.Context, prefix string) ([]anchor.Version, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var out []anchor.Version
	for o := range a.S.client.ListObjects(ctx, a.S.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			return nil, mapError(o.Err)
		}
		if o.IsDeleteMarker {
			continue
		}
		out = append(out, anchor.Version{Key: o.Key, VersionID: o.VersionID, LastModified: o.LastModified})
	}
	return out, nil
}

// GetVersion reads one version of an anchor (at most 1 MiB).
func (a Anchors) GetVersion(ctx context.Context, key, versionID string) ([]byte, error) {
	obj, err := a.S.client.GetObject(ctx, a.S.bucket, key, minio.GetObjectOptions{VersionID: versionID})
	if err != nil {
		return nil, mapError(err)
	}
	defer obj.Close()
	b, err := io.ReadAll(io.LimitReader(obj, 1<<20))
	return b, mapError(err)
}
