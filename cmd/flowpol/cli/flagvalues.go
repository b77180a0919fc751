package cli

import (
	"errors"
	"strconv"
	"time"

	"github.com/flowpol/flowpol/internal/duration"
)

// Flag values that refuse what makes no sense for the flag: pflag names the
// flag and the value in the error ("invalid argument "0s" for "--bucket"
// flag: must be positive"), before the command runs.

var (
	errNotPositive = errors.New("must be positive")
	errNegative    = errors.New("must not be negative")
)

// durationFlag is a duration in days and weeks too, with a floor: above
// zero, or at least zero.
type durationFlag struct {
	duration.Value
	zeroOK bool
}

// positiveDuration is a duration flag that refuses zero and less.
func positiveDuration(d *time.Duration, def time.Duration) durationFlag {
	return durationFlag{Value: duration.NewValue(d, def)}
}

// nonNegativeDuration is a duration flag that refuses less than zero.
func nonNegativeDuration(d *time.Duration, def time.Duration) durationFlag {
	return durationFlag{Value: duration.NewValue(d, def), zeroOK: true}
}

func (f durationFlag) Set(s string) error {
	d, err := duration.Parse(s)
	switch {
	case err != nil:
		return err
	case d < 0 || d == 0 && !f.zeroOK:
		return floorError(f.zeroOK)
	}
	*f.D = d
	return nil
}

func floorError(zeroOK bool) error {
	if zeroOK {
		return errNegative
	}
	return errNotPositive
}

// intFlag is an integer flag with a floor: above zero, or at least zero.
type intFlag struct {
	n      *int64
	set    func(int64)
	zeroOK bool
}

// positiveInt is an int flag that refuses zero and less.
func positiveInt(n *int, def int) *intFlag {
	*n = def
	v := int64(def)
	return &intFlag{n: &v, set: func(x int64) { *n = int(x) }}
}

// nonNegativeInt is an int flag that refuses less than zero.
func nonNegativeInt(n *int, def int) *intFlag {
	f := positiveInt(n, def)
	f.zeroOK = true
	return f
}

// positiveInt64 is an int64 flag that refuses zero and less.
func positiveInt64(n *int64, def int64) *intFlag {
	*n = def
	return &intFlag{n: n, set: func(x int64) { *n = x }}
}

func (f *intFlag) Set(s string) error {
	x, err := strconv.ParseInt(s, 0, strconv.IntSize)
	switch {
	case err != nil:
		return errors.New("not an integer")
	case x < 0 || x == 0 && !f.zeroOK:
		return floorError(f.zeroOK)
	}
	*f.n = x
	f.set(x)
	return nil
}

func (f *intFlag) String() string {
	if f == nil || f.n == nil {
		return "0"
	}
	return strconv.FormatInt(*f.n, 10)
}

func (*intFlag) Type() string { return "int" }
