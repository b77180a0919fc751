package overrides

import "errors"

// ErrTooLarge is an overrides file of more than MaxBytes; check it with
// errors.Is.
var ErrTooLarge = errors.New("larger than 16 MiB")
