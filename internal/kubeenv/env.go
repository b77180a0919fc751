package kubeenv

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// ServiceCIDR is the Service range the test API server allocates from.
const ServiceCIDR = "10.96.0.0/12"

// Env is a running etcd and kube-apiserver.
type Env struct {
	t          testing.TB
	dir        string
	bins       Binaries
	etcd, api  *exec.Cmd
	apiPort    int
	etcdURL    string
	token      string
	Kubeconfig string // a kubeconfig file for the API server
	Config     *rest.Config
}

// Start runs etcd and kube-apiserver for the test, on free loopback ports,
// and stops them at cleanup. Without the binaries it skips the test, except
// in CI, where it fails.
func Start(t testing.TB) *Env {
	t.Helper()
	bins, err := Cached()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v (CI builds them first)", err)
		}
		t.Skip(err)
	}
	e := &Env{t: t, dir: t.TempDir(), bins: bins, token: randomToken()}
	t.Cleanup(e.stop)
	e.startEtcd()
	e.apiPort = freePort(t)
	e.writeFiles()
	e.StartAPIServer()
	return e
}

func randomToken() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (e *Env) startEtcd() {
	client, peer := freePort(e.t), freePort(e.t)
	cu, pu := "http://127.0.0.1:"+strconv.Itoa(client), "http://127.0.0.1:"+strconv.Itoa(peer)
	e.etcd = exec.Command(e.bins.Etcd, "--name", "default", "--data-dir", filepath.Join(e.dir, "etcd"),
		"--listen-client-urls", cu, "--advertise-client-urls", cu,
		"--listen-peer-urls", pu, "--initial-advertise-peer-urls", pu, "--initial-cluster", "default="+pu,
		"--unsafe-no-fsync", "--log-level", "error")
	e.etcd.Stdout, e.etcd.Stderr = e.logFile("etcd.log"), e.logFile("etcd.log")
	if err := e.etcd.Start(); err != nil {
		e.t.Fatalf("start etcd: %v", err)
	}
	e.etcdURL = cu
}

func (e *Env) logFile(name string) *os.File {
	f, err := os.OpenFile(filepath.Join(e.dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { f.Close() })
	return f
}

// writeFiles writes the token file, the service-account key and the
// kubeconfig.
func (e *Env) writeFiles() {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		e.t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		e.t.Fatal(err)
	}
	e.write("sa.key", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	e.write("sa.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	e.write("tokens.csv", []byte(e.token+",admin,admin,system:masters\n"))
	host := "https://127.0.0.1:" + strconv.Itoa(e.apiPort)
	e.Kubeconfig = filepath.Join(e.dir, "kubeconfig")
	e.write("kubeconfig", []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: %q, insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {token: %q}}]
contexts: [{name: test, context: {cluster: test, user: admin}}]
current-context: test
`, host, e.token)))
	e.Config = &rest.Config{Host: host, BearerToken: e.token, TLSClientConfig: rest.TLSClientConfig{Insecure: true}, QPS: 500, Burst: 1000}
}

func (e *Env) write(name string, data []byte) {
	if err := os.WriteFile(filepath.Join(e.dir, name), data, 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// StartAPIServer starts kube-apiserver, again after StopAPIServer, on the
// same port, and waits until it is ready.
func (e *Env) StartAPIServer() {
	e.t.Helper()
	e.api = exec.Command(e.bins.APIServer,
		"--etcd-servers", e.etcdURL,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", strconv.Itoa(e.apiPort),
		"--cert-dir", filepath.Join(e.dir, "certs"),
		"--token-auth-file", filepath.Join(e.dir, "tokens.csv"),
		"--authorization-mode", "AlwaysAllow",
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--service-account-key-file", filepath.Join(e.dir, "sa.pub"),
		"--service-account-signing-key-file", filepath.Join(e.dir, "sa.key"),
		"--service-cluster-ip-range", ServiceCIDR,
		"--disable-admission-plugins", "ServiceAccount",
		"--endpoint-reconciler-type", "none")
	e.api.Stdout, e.api.Stderr = e.logFile("apiserver.log"), e.logFile("apiserver.log")
	if err := e.api.Start(); err != nil {
		e.t.Fatalf("start kube-apiserver: %v", err)
	}
	e.waitReady()
}

func (e *Env) waitReady() {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest("GET", e.Config.Host+"/readyz", nil) // a constant URL
		req.Header.Set("Authorization", "Bearer "+e.token)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(e.dir, "apiserver.log"))
	e.t.Fatalf("kube-apiserver not ready after 90s; its log:\n%s", tail(log, 4000))
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// StopAPIServer stops kube-apiserver; etcd keeps the state.
func (e *Env) StopAPIServer() {
	if e.api != nil && e.api.Process != nil {
		e.api.Process.Kill()
		e.api.Wait()
	}
	e.api = nil
}

// Client returns a clientset for the API server.
func (e *Env) Client() kubernetes.Interface {
	c, err := kubernetes.NewForConfig(e.Config)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *Env) stop() {
	e.StopAPIServer()
	if e.etcd != nil && e.etcd.Process != nil {
		e.etcd.Process.Kill()
		e.etcd.Wait()
	}
}
