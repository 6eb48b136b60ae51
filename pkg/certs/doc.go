// Package certs makes the webhook's serving certificates (a CA plus a leaf
// for a Service's DNS names) and serves them from files that are reloaded
// when cert-manager or a Secret volume rotates them.
package certs
