// Command bench measures casefile against the local services that `make
// bench` starts. Each area adds its section in its own file (see purge.go);
// sections run in name order and print one report each.
package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// section is one benchmark of an area.
type section struct {
	name string
	run  func(ctx context.Context) error
}

var sections = map[string]func(ctx context.Context) error{}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func main() {
	ctx := context.Background()
	only := os.Getenv("BENCH")
	var names []string
	for n := range sections {
		if only == "" || strings.Contains(","+only+",", ","+n+",") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	failed := false
	for _, n := range names {
		start := time.Now()
		fmt.Printf("== %s\n", n)
		if err := sections[n](ctx); err != nil {
			fmt.Fprintf(os.Stderr, "bench %s: %v\n", n, err)
			failed = true
		}
		fmt.Printf("   (%s in %s)\n", n, time.Since(start).Round(time.Millisecond))
	}
	if failed {
		os.Exit(1)
	}
}
