package cli

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/kubestate"
	"github.com/flowpol/flowpol/resolve"
)

// clusterOptions say where cluster state comes from: an inventory file, or
// the API server (a kubeconfig, or the pod's own service account).
type clusterOptions struct {
	inventory   []string
	kubeconfig  string
	syncTimeout time.Duration
	maxBytes    int64
	maxObject   int
}

func (o *clusterOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSliceVar(&o.inventory, "inventory", nil, "cluster inventory: kubectl get ... -o yaml|json; several (repeated or comma-separated) are snapshots, each taken at its file's modification time, merged so that pods replaced between them are known for the time they ran")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "read the cluster live through this kubeconfig (in a pod, its service account is used when neither this nor --inventory is given)")
	f.Var(positiveDuration(&o.syncTimeout, time.Minute), "sync-timeout", "how long to wait for the API server's first answer")
	f.Var(positiveInt64(&o.maxBytes, 1<<30), "max-inventory-bytes", "refuse an inventory file larger than this")
	f.Var(positiveInt(&o.maxObject, 16<<20), "max-inventory-object-bytes", "refuse an inventory whose objects (each List item on its own) are larger than this")
	cmd.MarkFlagsMutuallyExclusive("inventory", "kubeconfig")
}

// errNoCluster says neither an inventory nor an API server was given.
var errNoCluster = errors.New("say where the cluster's state is: --inventory FILE or --kubeconfig FILE (or run in a pod)")

// load returns the cluster's state as an inventory and, for a live
// cluster, a function that returns a newer one when it changed (nil
// otherwise).
func (o *clusterOptions) load(ctx context.Context) (*inventory.Inventory, func() *inventory.Inventory, error) {
	if len(o.inventory) > 1 {
		return nil, nil, fmt.Errorf("--inventory: %d files; this command reads one, the cluster as it is now", len(o.inventory))
	}
	if len(o.inventory) > 0 {
		inv, err := o.loadFile()
		return inv, nil, err
	}
	factory, host, err := o.informers()
	if err != nil {
		return nil, nil, err
	}
	state, err := kubestate.New(factory, kubestate.Options{})
	if err != nil {
		return nil, nil, err
	}
	if err := o.start(ctx, factory, host, state.Synced()); err != nil {
		return nil, nil, err
	}
	return state.Refresh(), state.Refresh, nil
}

// loadFile reads --inventory within its bounds: one file as it is,
// several as snapshots, each at its file's modification time (see
// inventory.Merge).
func (o *clusterOptions) loadFile() (*inventory.Inventory, error) {
	opts := inventory.Options{MaxBytes: o.maxBytes, MaxObjectBytes: o.maxObject}
	if len(o.inventory) == 1 {
		return opts.LoadFile(o.inventory[0])
	}
	snaps := make([]inventory.Snapshot, len(o.inventory))
	for i, path := range o.inventory {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("--inventory: %w", err)
		}
		inv, err := opts.LoadFile(path)
		if err != nil {
			return nil, err
		}
		snaps[i] = inventory.Snapshot{Inventory: inv, Time: fi.ModTime()}
	}
	return inventory.Merge(snaps), nil
}

// resolver returns what places flows in the cluster: the inventory's
// resolver and the inventory, or the live cluster's, which follows it
// event by event, and no inventory.
func (o *clusterOptions) resolver(ctx context.Context, cidrs []netip.Prefix) (resolve.Resolver, *inventory.Inventory, error) {
	if len(o.inventory) > 0 {
		inv, err := o.loadFile()
		if err != nil {
			return nil, nil, err
		}
		return resolve.New(inv, resolve.Options{ClusterCIDRs: cidrs}), inv, nil
	}
	factory, host, err := o.informers()
	if err != nil {
		return nil, nil, err
	}
	res, err := kubestate.NewResolver(factory, kubestate.ResolverOptions{ClusterCIDRs: cidrs})
	if err != nil {
		return nil, nil, err
	}
	if err := o.start(ctx, factory, host, res.Synced()); err != nil {
		return nil, nil, err
	}
	return res, nil, nil
}

// informers returns the informer factory of the API server, stripping
// objects to what enrichment reads, and the server's address.
func (o *clusterOptions) informers() (informers.SharedInformerFactory, string, error) {
	cfg, err := o.restConfig()
	if err != nil {
		return nil, "", err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("client for %s: %w", cfg.Host, err)
	}
	return informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTransform(kubestate.Transform)), cfg.Host, nil
}

// start starts the informers until ctx ends, and waits for synced.
func (o *clusterOptions) start(ctx context.Context, f informers.SharedInformerFactory, host string, synced []cache.InformerSynced) error {
	f.Start(ctx.Done())
	syncCtx, cancel := context.WithTimeout(ctx, o.syncTimeout)
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), synced...) {
		return fmt.Errorf("sync with the API server at %s: no answer within %v", host, o.syncTimeout)
	}
	return nil
}

func (o *clusterOptions) restConfig() (*rest.Config, error) {
	if o.kubeconfig != "" {
		// A list (the plugin's default, as $KUBECONFIG) merges as kubectl
		// merges it; one file must exist.
		rules := &clientcmd.ClientConfigLoadingRules{Precedence: filepath.SplitList(o.kubeconfig)}
		if len(rules.Precedence) == 1 {
			rules = &clientcmd.ClientConfigLoadingRules{ExplicitPath: o.kubeconfig}
		}
		cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
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
