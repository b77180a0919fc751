// Command kube-env builds the etcd and kube-apiserver the tests run
// against, into the cache directory, unless they are there already.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/flowpol/flowpol/internal/kubeenv"
)

func main() {
	b, err := kubeenv.Build(context.Background(), func(msg string) { fmt.Fprintln(os.Stderr, "kube-env:", msg) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "kube-env:", err)
		os.Exit(1)
	}
	fmt.Println(b.APIServer)
	fmt.Println(b.Etcd)
}
