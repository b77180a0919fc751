//go:build !linux

package testpods

// MaybeRunHelper does nothing where test pods cannot be made.
func MaybeRunHelper() {}
