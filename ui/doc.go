// Package ui serves flowpol's review page: the observed topology as a map,
// each workload's peers as tables with a box per observed edge, the
// policies generate gives for the page's edits (and their diff against the
// policies there), and a button that saves the edits to the overrides file.
//
// The page's assets are the front end built from this directory's sources
// (make ui) and embedded in the binary. Every request needs the server's
// token: in the page's address (?token=, which also sets a cookie for the
// assets the page loads), and for every write in the X-Flowpol-Token header,
// so that another site cannot post to it. Nothing is written but the
// overrides file, atomically. The policies are computed by the generator,
// on the server, from the overrides file as saving would write it: what the
// page shows is what generate --overrides gives. The page numbers each
// change of its edits and shows only the latest one's answer; its body's
// data-revision and data-shown attributes say which it has and which it
// shows.
//
// A Server holds one window, read when it is made; it is safe for
// concurrent requests.
package ui
