// Package e2e tests tokenguard where it lives: the built binary behind a
// real kube-apiserver (and kube-controller-manager, etcd) on 127.0.0.1,
// registered with the ValidatingWebhookConfiguration shipped in deploy/.
package e2e
