package boltdb

import (
	bolt "go.etcd.io/bbolt"
)

// migrateIfOld migrates a schema-1 file in place and returns the handle of
// the file to use.
func (s *Store) migrateIfOld(db *bolt.DB) (*bolt.DB, error) {
	return db, nil
}
