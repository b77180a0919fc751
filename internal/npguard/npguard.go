package npguard

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
)

// Analyzer is one running engine process.
type Analyzer struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Scanner
	stderr bytes.Buffer
}

// Engine is one netpol-analyzer PolicyEngine in an Analyzer.
type Engine struct {
	a  *Analyzer
	id int
}

type request struct {
	Op     string          `json:"op"`
	Engine int             `json:"engine"`
	Kind   string          `json:"kind,omitempty"`
	Object json.RawMessage `json:"object,omitempty"`
	Src    string          `json:"src,omitempty"`
	Dst    string          `json:"dst,omitempty"`
	Proto  string          `json:"proto,omitempty"`
	Port   string          `json:"port,omitempty"`
	// Queries are a checks request's connections.
	Queries []Query `json:"queries,omitempty"`
}

// Query is one connection to check: src and dst are "namespace/name" or
// an address.
type Query struct {
	Src   string `json:"src"`
	Dst   string `json:"dst"`
	Proto string `json:"proto"`
	Port  string `json:"port"`
}

type answer struct {
	Engine  int    `json:"engine"`
	Allowed bool   `json:"allowed"`
	Results []bool `json:"results"`
	Error   string `json:"error"`
}

// Start builds (when its cache is stale) and starts the engine command,
// stopped when the test ends. A build or start that fails fails the test.
func Start(tb testing.TB) *Analyzer {
	tb.Helper()
	bin, err := build()
	if err != nil {
		tb.Fatalf("netpol-analyzer engine: %v", err)
	}
	a := &Analyzer{cmd: exec.Command(bin)}
	a.cmd.Dir = tb.TempDir() // netpol-analyzer writes a cache log there
	a.cmd.Stderr = &a.stderr
	if a.in, err = a.cmd.StdinPipe(); err != nil {
		tb.Fatal(err)
	}
	out, err := a.cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	a.out = bufio.NewScanner(out)
	a.out.Buffer(make([]byte, 0, 1<<16), 1<<26)
	if err := a.cmd.Start(); err != nil {
		tb.Fatalf("netpol-analyzer engine: %v", err)
	}
	tb.Cleanup(func() {
		if err := a.in.Close(); err != nil {
			tb.Errorf("netpol-analyzer engine: %v", err)
		}
		if err := a.cmd.Wait(); err != nil {
			tb.Errorf("netpol-analyzer engine: %v\n%s", err, a.stderr.Bytes())
		}
	})
	return a
}

// NewEngine is a new, empty PolicyEngine.
func (a *Analyzer) NewEngine() (*Engine, error) {
	ans, err := a.call(request{Op: "new"})
	if err != nil {
		return nil, err
	}
	return &Engine{a: a, id: ans.Engine}, nil
}

// InsertObject adds a Namespace, Pod, NetworkPolicy, or an
// AdminNetworkPolicy or BaselineAdminNetworkPolicy (policy.networking.k8s.io
// v1alpha1, given with its kind set, in any type that marshals to it).
func (e *Engine) InsertObject(o k8sruntime.Object) error {
	kind, err := kindOf(o)
	if err != nil {
		return err
	}
	data, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	_, err = e.a.call(request{Op: "insert", Engine: e.id, Kind: kind, Object: data})
	return err
}

// CheckIfAllowed is netpol-analyzer's verdict on a connection from src to
// dst ("namespace/name" or an address) on the protocol and port.
func (e *Engine) CheckIfAllowed(src, dst, proto, port string) (bool, error) {
	ans, err := e.a.call(request{Op: "check", Engine: e.id, Src: src, Dst: dst, Proto: proto, Port: port})
	return ans.Allowed, err
}

// CheckAll is CheckIfAllowed of every query, in one exchange with the
// process: the verdicts in the queries' order.
func (e *Engine) CheckAll(qs []Query) ([]bool, error) {
	if len(qs) == 0 {
		return nil, nil
	}
	ans, err := e.a.call(request{Op: "checks", Engine: e.id, Queries: qs})
	if err != nil {
		return nil, err
	}
	if len(ans.Results) != len(qs) {
		return nil, fmt.Errorf("netpol-analyzer engine: %d verdicts for %d queries", len(ans.Results), len(qs))
	}
	return ans.Results, nil
}

// Close frees the engine in the process.
func (e *Engine) Close() error {
	_, err := e.a.call(request{Op: "drop", Engine: e.id})
	return err
}

func kindOf(o k8sruntime.Object) (string, error) {
	switch o.(type) {
	case *corev1.Namespace:
		return "Namespace", nil
	case *corev1.Pod:
		return "Pod", nil
	case *networkingv1.NetworkPolicy:
		return "NetworkPolicy", nil
	}
	if k := o.GetObjectKind().GroupVersionKind().Kind; k != "" {
		return k, nil
	}
	return "", fmt.Errorf("insert %T: no kind", o)
}

func (a *Analyzer) call(r request) (answer, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	line, err := json.Marshal(r)
	if err != nil {
		return answer{}, err
	}
	if _, err := a.in.Write(append(line, '\n')); err != nil {
		return answer{}, fmt.Errorf("netpol-analyzer engine: %w\n%s", err, a.stderr.Bytes())
	}
	if !a.out.Scan() {
		err := a.out.Err()
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return answer{}, fmt.Errorf("netpol-analyzer engine: %w\n%s", err, a.stderr.Bytes())
	}
	var ans answer
	if err := json.Unmarshal(a.out.Bytes(), &ans); err != nil {
		return answer{}, fmt.Errorf("netpol-analyzer engine answer: %w", err)
	}
	if ans.Error != "" {
		return ans, errors.New(ans.Error)
	}
	return ans, nil
}

// build returns the engine binary, built into the cache when missing.
func build() (string, error) {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("no source path to find engine/ by")
	}
	src := filepath.Join(filepath.Dir(self), "engine")
	key, err := sourceKey(src)
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "flowpol", "npguard", key)
	bin := filepath.Join(dir, "engine")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, "engine-*")
	if err != nil {
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-o", tmp.Name(), ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", errors.Join(fmt.Errorf("go build %s: %w\n%s", src, err, out), os.Remove(tmp.Name()))
	}
	// A rename is atomic: concurrent builds each put a whole binary there.
	return bin, os.Rename(tmp.Name(), bin)
}

// sourceKey names a build of engine/: its sources and the Go version.
func sourceKey(src string) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version())
	for _, name := range []string{"main.go", "go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return "", fmt.Errorf("engine source: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
