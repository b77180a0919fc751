package browser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Path is where Debian installs Chromium.
const Path = "/usr/bin/chromium"

// Browser is one headless Chromium with one tab.
type Browser struct {
	// Ctx runs chromedp actions in the tab.
	Ctx context.Context

	mu     sync.Mutex
	errors []string
}

// Options shape the window.
type Options struct {
	// Width and Height are the page's viewport; zero means 1280 by 900.
	Width, Height int
}

// New starts Chromium for a test. Without Chromium the test fails in CI
// (which installs it) and is skipped elsewhere.
func New(tb testing.TB, opts Options) *Browser {
	tb.Helper()
	if _, err := exec.LookPath(Path); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("chromium is not installed, and CI installs it: %v", err)
		}
		tb.Skip("needs chromium (apt-get install chromium)")
	}
	if opts.Width == 0 {
		opts.Width, opts.Height = 1280, 900
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(Path),
		chromedp.Headless,
		// The tests run as root, where Chromium's sandbox will not start;
		// the pages are the test's own.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(opts.Width, opts.Height),
		chromedp.Env("HOME="+tb.TempDir()),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	b := &Browser{Ctx: ctx}
	tb.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Listen(ctx, b.listen); err != nil {
		tb.Fatalf("start chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); err != nil {
		tb.Fatalf("chromium: enable the log: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(opts.Width), int64(opts.Height))); err != nil {
		tb.Fatalf("chromium: set the viewport: %v", err)
	}
	return b
}

// listen keeps what the page reports as an error.
func (b *Browser) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		msg = "console." + string(ev.Type) + ":"
		for _, a := range ev.Args {
			msg += " " + string(a.Value) + a.Description
		}
	case *runtime.EventExceptionThrown:
		msg = "exception: " + ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			msg += " " + ev.ExceptionDetails.Exception.Description
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level != log.EntryLevelError {
			return
		}
		msg = fmt.Sprintf("log %s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
	default:
		return
	}
	b.mu.Lock()
	b.errors = append(b.errors, msg)
	b.mu.Unlock()
}

// Errors are the errors the page has reported so far.
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// Named counts the elements of a role whose accessible name, as the
// browser computes it for assistive technology, is exactly name.
func Named(role, name string) chromedp.Action[int] {
	return func(ctx context.Context, t *chromedp.Target) (int, error) {
		// The body by object, not DOM.getDocument, which would reset the
		// node ids chromedp's queries hold.
		body, err := chromedp.Evaluate[*runtime.RemoteObject]("document.body")(ctx, t)
		if err != nil {
			return 0, err
		}
		res, err := cdp.Call(ctx, t, accessibility.QueryAXTree, accessibility.QueryAXTreeParams{ObjectID: body.ObjectID, AccessibleName: name, Role: role})
		if err != nil {
			return 0, fmt.Errorf("query the accessibility tree for %s %q: %w", role, name, err)
		}
		n := 0
		for _, node := range res.Nodes {
			if !node.Ignored {
				n++
			}
		}
		return n, nil
	}
}
