package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/kubestate"
)

// clusterOptions say where cluster state comes from: an inventory file, or
// the API server (a kubeconfig, or the pod's own service account).
type clusterOptions struct {
	inventory   string
	kubeconfig  string
	syncTimeout time.Duration
	maxBytes    int64
	maxObject   int
}

func (o *clusterOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.inventory, "inventory", "", "cluster inventory: kubectl get ... -o yaml|json")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "read the cluster live through this kubeconfig (in a pod, its service account is used when neither this nor --inventory is given)")
	f.Var(positiveDuration(&o.syncTimeout, time.Minute), "sync-timeout", "how long to wait for the API server's first answer")
	f.Var(positiveInt64(&o.maxBytes, 1<<30), "max-inventory-bytes", "refuse an inventory file larger than this")
	f.Var(positiveInt(&o.maxObject, 16<<20), "max-inventory-object-bytes", "refuse an inventory whose objects (each List item on its own) are larger than this")
	cmd.MarkFlagsMutuallyExclusive("inventory", "kubeconfig")
}

// errNoCluster says neither an inventory nor an API server was given.
var errNoCluster = errors.New("say where the cluster's state is: --inventory FILE or --kubeconfig FILE (or run in a pod)")

// load returns the cluster's state and, for a live cluster, a function
// that returns a newer state when it changed (nil otherwise).
func (o *clusterOptions) load(ctx context.Context) (*inventory.Inventory, func() *inventory.Inventory, error) {
	if o.inventory != "" {
		inv, err := inventory.Options{MaxBytes: o.maxBytes, MaxObjectBytes: o.maxObject}.LoadFile(o.inventory)
		return inv, nil, err
	}
	cfg, err := o.restConfig()
	if err != nil {
		return nil, nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("client for %s: %w", cfg.Host, err)
	}
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTransform(kubestate.Transform))
	state, err := kubestate.New(factory, kubestate.Options{})
	if err != nil {
		return nil, nil, err
	}
	factory.Start(ctx.Done())
	syncCtx, cancel := context.WithTimeout(ctx, o.syncTimeout)
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), state.Synced()...) {
		return nil, nil, fmt.Errorf("sync with the API server at %s: no answer within %v", cfg.Host, o.syncTimeout)
	}
	return state.Refresh(), state.Refresh, nil
}

func (o *clusterOptions) restConfig() (*rest.Config, error) {
	if o.kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: %w", o.kubeconfig, err)
		}
		return cfg, nil
	}
	if os.Getenv("KUBERNETES_SERVICE_HOST") == "" {
		return nil, errNoCluster
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("in-cluster config: %w", err)
	}
	return cfg, nil
}
