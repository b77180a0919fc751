// Package browser starts Debian's Chromium, headless, for the tests that
// drive flowpol's pages with chromedp: a fresh profile per test, nothing
// reached but the pages the test opens (no background networking, updates
// or sync), and every error the page's console or its scripts report
// collected for the test to check. The browser lives until the test ends.
package browser
