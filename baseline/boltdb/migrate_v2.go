package boltdb

import (
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// Schema 2 is schema 3 without estimated counts: its blocks end after the
// counts, as schema 3 writes a block with no estimates. Migrating it keeps
// the original as FILE.v2.bak and rewrites the schema key.
func (s *Store) migrateV2(db *bolt.DB) error {
	if err := copyFile(s.path, s.path+".v2.bak"); err != nil {
		return fmt.Errorf("migrate %s from schema 2 to %d: %w", s.path, SchemaVersion, err)
	}
	err := db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, []byte(strconv.Itoa(SchemaVersion)))
	})
	if err != nil {
		return fmt.Errorf("migrate %s from schema 2 to %d: %w", s.path, SchemaVersion, err)
	}
	s.opts.Log(fmt.Sprintf("%s: migrated baseline schema 2 → %d; the original is %s.v2.bak", s.path, SchemaVersion, s.path))
	return nil
}
