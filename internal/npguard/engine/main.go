// Command engine serves np-guard's netpol-analyzer policy engine to
// flowpol's tests over standard input and output, one JSON request and one
// JSON answer per line (see package npguard for the client).
//
// It is a module of its own because netpol-analyzer v1.4.4 compiles only
// against sigs.k8s.io/network-policy-api v0.1.5, while flowpol emits
// v0.3.0's ClusterNetworkPolicy, and one module holds one version of a
// module. What it adds to the engine is the wire: it decides nothing.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/np-guard/netpol-analyzer/pkg/logger"
	"github.com/np-guard/netpol-analyzer/pkg/netpol/eval"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/network-policy-api/apis/v1alpha1"
)

// request is one line in: op is new, insert, check, checks (many
// queries, one answer) or drop.
type request struct {
	Op     string          `json:"op"`
	Engine int             `json:"engine"`
	Kind   string          `json:"kind,omitempty"`
	Object json.RawMessage `json:"object,omitempty"`
	Src    string          `json:"src,omitempty"`
	Dst    string          `json:"dst,omitempty"`
	Proto  string          `json:"proto,omitempty"`
	Port   string          `json:"port,omitempty"`
	// Queries are the connections of a checks request.
	Queries []query `json:"queries,omitempty"`
}

type query struct {
	Src   string `json:"src"`
	Dst   string `json:"dst"`
	Proto string `json:"proto"`
	Port  string `json:"port"`
}

// answer is one line out.
type answer struct {
	Engine  int    `json:"engine,omitempty"`
	Allowed bool   `json:"allowed,omitempty"`
	Results []bool `json:"results,omitempty"`
	Error   string `json:"error,omitempty"`
}

func main() {
	if err := serve(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "engine:", err)
		os.Exit(1)
	}
}

func serve(in io.Reader, out io.Writer) error {
	s := &server{engines: map[int]*eval.PolicyEngine{}}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<26)
	enc := json.NewEncoder(out)
	for sc.Scan() {
		var r request
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("request: %w", err)
		}
		a, err := s.do(&r)
		if err != nil {
			a.Error = err.Error()
		}
		if err := enc.Encode(a); err != nil {
			return fmt.Errorf("answer: %w", err)
		}
	}
	return sc.Err()
}

type server struct {
	engines map[int]*eval.PolicyEngine
	next    int
}

func (s *server) do(r *request) (answer, error) {
	if r.Op == "new" {
		pe, err := eval.NewPolicyEngineWithOptionsList(eval.WithLogger(logger.NewDefaultLoggerWithVerbosity(logger.LowVerbosity)))
		if err != nil {
			return answer{}, err
		}
		s.next++
		s.engines[s.next] = pe
		return answer{Engine: s.next}, nil
	}
	pe, ok := s.engines[r.Engine]
	if !ok {
		return answer{}, fmt.Errorf("no engine %d", r.Engine)
	}
	switch r.Op {
	case "insert":
		o, err := decode(r.Kind, r.Object)
		if err != nil {
			return answer{}, err
		}
		return answer{}, pe.InsertObject(o)
	case "check":
		ok, err := pe.CheckIfAllowed(r.Src, r.Dst, r.Proto, r.Port)
		return answer{Allowed: ok}, err
	case "checks":
		out := make([]bool, len(r.Queries))
		for i, q := range r.Queries {
			ok, err := pe.CheckIfAllowed(q.Src, q.Dst, q.Proto, q.Port)
			if err != nil {
				return answer{}, fmt.Errorf("query %d (%s -> %s %s/%s): %w", i, q.Src, q.Dst, q.Port, q.Proto, err)
			}
			out[i] = ok
		}
		return answer{Results: out}, nil
	case "drop":
		delete(s.engines, r.Engine)
		return answer{}, nil
	}
	return answer{}, fmt.Errorf("unknown op %q", r.Op)
}

func decode(kind string, data json.RawMessage) (runtime.Object, error) {
	var o runtime.Object
	switch kind {
	case "Namespace":
		o = &corev1.Namespace{}
	case "Pod":
		o = &corev1.Pod{}
	case "NetworkPolicy":
		o = &networkingv1.NetworkPolicy{}
	case "AdminNetworkPolicy":
		o = &v1alpha1.AdminNetworkPolicy{}
	case "BaselineAdminNetworkPolicy":
		o = &v1alpha1.BaselineAdminNetworkPolicy{}
	default:
		return nil, fmt.Errorf("kind %q: not one the engine reads", kind)
	}
	if err := json.Unmarshal(data, o); err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	return o, nil
}
