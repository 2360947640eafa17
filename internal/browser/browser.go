// Package browser drives Debian's chromium (headless, through chromedp) for
// the web pages' tests: every page visited is checked with axe-core (no
// serious or critical violation may pass) and photographed, and a person's
// journey can be walked with the keyboard alone.
//
// Tests only: nothing in the binary imports it.
package browser

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Chromium is the browser the tests drive: Debian's package, which
// `scripts/services.sh test-deps` (run by make test) installs.
const Chromium = "/usr/bin/chromium"

// Browser is one browser (its own profile, so its own cookies) on one tab.
type Browser struct {
	t     testing.TB
	Base  string
	ctx   context.Context
	shots string
	last  time.Time
	// Checked lists the pages checked with axe, by screenshot name.
	Checked []string
}

// New starts a browser for the test; it stops when the test ends.
func New(t testing.TB, base string) *Browser {
	t.Helper()
	if _, err := exec.LookPath(Chromium); err != nil {
		t.Fatalf("%s is needed for the browser tests: run scripts/services.sh test-deps (make test does)", Chromium)
	}
	// Chromium's helpers may still be writing the profile as the test
	// ends, so it is removed after the browser, ignoring what they left.
	profile, err := os.MkdirTemp("", "casefile-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil {
		cancelB()
		cancelA()
		t.Fatalf("starting %s: %v", Chromium, err)
	}
	t.Cleanup(func() {
		cancelB()
		cancelA()
		os.RemoveAll(profile) //nolint:errcheck
	})
	return &Browser{t: t, Base: strings.TrimSuffix(base, "/"), ctx: ctx, shots: screenshotDir(t), last: time.Now()}
}

// screenshotDir is $CASEFILE_SCREENSHOTS, or web/testdata/screenshots in the
// module (git-ignored), with a folder per test.
func screenshotDir(t testing.TB) string {
	root := os.Getenv("CASEFILE_SCREENSHOTS")
	if root == "" {
		root = filepath.Join(moduleRoot(t), "web", "testdata", "screenshots")
	}
	dir := filepath.Join(root, regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "_"))
	if _, seen := shotCounts.LoadOrStore(dir, new(atomic.Int32)); !seen {
		os.RemoveAll(dir) //nolint:errcheck // the last run's
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// shotCounts numbers the screenshots of a test's folder, across its browsers.
var shotCounts sync.Map

func moduleRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

// axe is axe-core's script from the pinned npm package (make test runs npm ci).
func axe(t testing.TB) string {
	axeOnce.Do(func() {
		var b []byte
		b, axeErr = os.ReadFile(filepath.Join(moduleRoot(t), "node_modules", "axe-core", "axe.min.js"))
		axeSource = string(b)
	})
	if axeErr != nil {
		t.Fatalf("axe-core is needed for the accessibility checks: run make assets (npm ci): %v", axeErr)
	}
	return axeSource
}

// Run runs chromedp actions on the tab, failing the test on error.
func (b *Browser) Run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v (at %s)", err, b.URL())
	}
}

// get runs one action and returns its value, failing the test on error.
func get[T any](b *Browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v (at %s)", err, b.URL())
	}
	return v
}

// URL is the tab's current address.
func (b *Browser) URL() string {
	u, _ := chromedp.Run(b.ctx, chromedp.Location())
	return u
}

// Path is the current address without the base.
func (b *Browser) Path() string { return strings.TrimPrefix(b.URL(), b.Base) }

// Go opens path and checks the page.
func (b *Browser) Go(path, name string) {
	b.t.Helper()
	b.Run(chromedp.Navigate(b.Base + path))
	b.Check(name)
}

// Check waits for the page to be ready, runs axe-core in it (failing the test
// on any serious or critical violation), and saves a screenshot.
func (b *Browser) Check(name string) {
	b.t.Helper()
	b.Run(chromedp.WaitReady(chromedp.CSS("body")))
	if !get(b, chromedp.Evaluate[bool](`typeof axe !== 'undefined'`)) {
		b.Run(chromedp.Evaluate[chromedp.Void](axe(b.t)))
	}
	var res struct {
		Violations []struct {
			ID, Impact, Help string
			Nodes            []struct {
				Target []any  `json:"target"`
				HTML   string `json:"html"`
			} `json:"nodes"`
		} `json:"violations"`
	}
	raw := get(b, chromedp.Evaluate[[]byte](`axe.run(document, {resultTypes: ['violations']}).then(r => ({violations: r.violations}))`,
		chromedp.EvalAwaitPromise))
	if err := json.Unmarshal(raw, &res); err != nil {
		b.t.Fatalf("axe result: %v", err)
	}
	for _, v := range res.Violations {
		if v.Impact != "serious" && v.Impact != "critical" {
			continue
		}
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprint(n.Target)+" "+n.HTML)
		}
		b.t.Errorf("axe on %s (%s): %s %s: %s\n  %s", name, b.Path(), v.Impact, v.ID, v.Help, strings.Join(where, "\n  "))
	}
	b.Screenshot(name)
	b.Checked = append(b.Checked, name)
	b.t.Logf("page %s checked (%s since the last)", name, time.Since(b.last).Round(time.Millisecond))
	b.last = time.Now()
}

// Screenshot saves the whole page as NN-name.png in the test's folder.
func (b *Browser) Screenshot(name string) {
	b.t.Helper()
	png := get(b, chromedp.FullScreenshot(100))
	c, _ := shotCounts.Load(b.shots)
	file := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", c.(*atomic.Int32).Add(1), name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// ScreenshotOf saves the first element matching a CSS selector as
// NN-name.png in the test's folder (a chart for the README, say).
func (b *Browser) ScreenshotOf(sel, name string) {
	b.t.Helper()
	png := get(b, chromedp.ScreenshotScale(chromedp.CSS(sel), 2))
	c, _ := shotCounts.Load(b.shots)
	file := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", c.(*atomic.Int32).Add(1), name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// Text is the text of the first element matching a CSS selector.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	return get(b, chromedp.Text(chromedp.CSS(sel)))
}

// Eval evaluates a JavaScript expression into a value of type T.
func Eval[T any](b *Browser, js string) T {
	b.t.Helper()
	return get(b, chromedp.Evaluate[T](js))
}

// Title is the page's title.
func (b *Browser) Title() string { return get(b, chromedp.Title()) }

// TabTo presses Tab until the focused element matches the CSS selector, as
// a keyboard user would; it fails the test if it is never reached.
func (b *Browser) TabTo(sel string) {
	b.t.Helper()
	for i := 0; i < 80; i++ {
		if get(b, chromedp.Evaluate[bool](fmt.Sprintf(`!!document.activeElement && document.activeElement.matches(%q)`, sel))) {
			return
		}
		b.Run(chromedp.KeyEvent(kb.Tab))
	}
	b.t.Fatalf("keyboard: %s was never reached with Tab on %s", sel, b.Path())
}

// Type types text into the focused element, key by key.
func (b *Browser) Type(text string) {
	b.t.Helper()
	b.Run(chromedp.KeyEvent(text))
}

// Enter presses Enter on the focused element and waits for the next page.
func (b *Browser) Enter() {
	b.t.Helper()
	b.Run(chromedp.KeyEvent(kb.Enter))
	b.Run(chromedp.Sleep(100*time.Millisecond), chromedp.WaitReady(chromedp.CSS("body")))
}

// Space presses the space bar on the focused element (checkboxes, radios).
func (b *Browser) Space() {
	b.t.Helper()
	b.Run(chromedp.KeyEvent(" "))
}

// File is a file to drop onto a page.
type File struct {
	Name, Type string
	Data       []byte
}

// Drop dispatches dragenter, dragover and drop on the element matching sel,
// carrying files in a real DataTransfer, as when files are dragged from the
// desktop or Outlook.
func (b *Browser) Drop(sel string, files ...File) {
	b.t.Helper()
	type f struct{ Name, Type, B64 string }
	var fs []f
	for _, x := range files {
		fs = append(fs, f{x.Name, x.Type, base64.StdEncoding.EncodeToString(x.Data)})
	}
	arg, _ := json.Marshal(fs)
	js := fmt.Sprintf(`(() => {
		const zone = document.querySelector(%q);
		if (!zone) return false;
		const dt = new DataTransfer();
		for (const f of %s) {
			const bin = atob(f.B64), bytes = new Uint8Array(bin.length);
			for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
			dt.items.add(new File([bytes], f.Name, {type: f.Type}));
		}
		for (const type of ['dragenter', 'dragover', 'drop']) {
			zone.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: dt}));
		}
		return true;
	})()`, sel, arg)
	if !get(b, chromedp.Evaluate[bool](js)) {
		b.t.Fatalf("drop: no %s on %s", sel, b.Path())
	}
}

// WaitFor waits until the JavaScript condition is true.
func (b *Browser) WaitFor(cond string) {
	b.t.Helper()
	b.Run(chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingTimeout(45*time.Second)))
}

// SetFiles sets the files of a file input from paths on disk (the plain form).
func (b *Browser) SetFiles(sel string, paths ...string) {
	b.t.Helper()
	b.Run(chromedp.SetUploadFiles(chromedp.CSS(sel), paths))
}

// Key presses one key on the focused element: kb.ArrowDown and the like.
func (b *Browser) Key(key string) {
	b.t.Helper()
	b.Run(chromedp.KeyEvent(key))
}

// Fetch downloads path with the page's cookies (as a link the person
// follows would) and returns its status, content type and body.
func (b *Browser) Fetch(path string) (int, string, []byte) {
	b.t.Helper()
	type res struct {
		Status int
		Type   string
		B64    string
	}
	r := get(b, chromedp.Evaluate[res](fmt.Sprintf(`fetch(%q, {credentials: 'same-origin'}).then(async r => {
		const bytes = new Uint8Array(await r.arrayBuffer());
		let bin = '';
		for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
		return {Status: r.status, Type: r.headers.get('content-type') || '', B64: btoa(bin)};
	})`, path), chromedp.EvalAwaitPromise))
	body, err := base64.StdEncoding.DecodeString(r.B64)
	if err != nil {
		b.t.Fatalf("fetch %s: %v", path, err)
	}
	return r.Status, r.Type, body
}
