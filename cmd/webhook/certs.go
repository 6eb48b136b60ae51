package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tokenguard/tokenguard/pkg/certs"
)

// webhookNames are the entries of deploy/base/validatingwebhookconfiguration.yaml
// (a test keeps the two in step).
var webhookNames = []string{
	"enforce-pods.tokenguard.io",
	"enforce-workloads.tokenguard.io",
	"enforce-kube-system-pods.tokenguard.io",
	"warn.tokenguard.io",
	"audit.tokenguard.io",
	"namespace-preview.tokenguard.io",
}

// CABundlePatchFile is the kustomize patch `tokenguard certs` writes.
const CABundlePatchFile = "cabundle-patch.yaml"

func runCerts(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("certs", "certs --service NAME --namespace NS --out DIR", stderr)
	service := fs.String("service", "tokenguard", "name of the webhook's Service")
	namespace := fs.String("namespace", "tokenguard-system", "namespace of the Service")
	out := fs.String("out", "", "directory to write ca.crt, ca.key, tls.crt, tls.key and "+CABundlePatchFile+" to (required)")
	validity := fs.Duration("validity", certs.DefaultServingValidity, "validity of the serving certificate (at least "+certs.MinServingValidity.String()+")")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "tokenguard certs: --out DIR is required, and no arguments")
		fs.Usage()
		return exitUsage
	}
	if *validity < certs.MinServingValidity {
		fmt.Fprintf(stderr, "tokenguard certs: --validity %s is below the minimum of %s: the certificate would expire before the webhook is rolled out\n", *validity, certs.MinServingValidity)
		return exitUsage
	}
	sans := certs.ServiceSANs(*service, *namespace)
	b, err := certs.Generate(sans, time.Now(), *validity)
	if err != nil {
		fmt.Fprintf(stderr, "tokenguard certs: %v\n", err)
		return exitUsage
	}
	if err := certs.WriteFiles(*out, b); err != nil {
		fmt.Fprintf(stderr, "tokenguard certs: %v\n", err)
		return exitUsage
	}
	patch := certs.CABundlePatch("tokenguard", webhookNames, b.CACertPEM)
	if err := os.WriteFile(filepath.Join(*out, CABundlePatchFile), []byte(patch), 0o644); err != nil {
		fmt.Fprintf(stderr, "tokenguard certs: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "wrote %s: ca.crt, ca.key, tls.crt, tls.key (for %s) and %s\n", *out, strings.Join(sans, ", "), CABundlePatchFile)
	fmt.Fprintln(stdout, "keys stay out of git; apply with: kubectl apply -k deploy/overlays/self-signed")
	return exitOK
}
