package learn

import "errors"

// ErrBucket is a bucket width a Learner cannot aggregate in.
var ErrBucket = errors.New("bucket width must be a whole number of seconds, from 1s to 49 days")
