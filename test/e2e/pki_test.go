//go:build e2e

package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// pki is a CA and the certificates signed by it, as PEM files in dir.
type pki struct {
	dir    string
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
	serial int64
}

// newPKI makes a CA valid for a day; its certificate is dir/ca.crt.
func newPKI(t *testing.T, dir string) *pki {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "podsec-e2e-ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("creating the CA: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("creating the CA: %v", err)
	}
	p := &pki{dir: dir, caCert: cert, caKey: key, serial: 1}
	writePEM(t, p.path("ca.crt"), "CERTIFICATE", der)
	return p
}

func (p *pki) path(name string) string { return filepath.Join(p.dir, name) }

// serving writes name.crt and name.key, a server certificate for 127.0.0.1
// and localhost.
func (p *pki) serving(t *testing.T, name string) (crt, key string) {
	return p.issue(t, name, pkix.Name{CommonName: name}, x509.ExtKeyUsageServerAuth)
}

// client writes name.crt and name.key, a client certificate of the user
// cn in the groups (the API server reads groups from O).
func (p *pki) client(t *testing.T, cn string, groups ...string) (crt, key string) {
	return p.issue(t, cn, pkix.Name{CommonName: cn, Organization: groups}, x509.ExtKeyUsageClientAuth)
}

func (p *pki) issue(t *testing.T, name string, subject pkix.Name, usage x509.ExtKeyUsage) (string, string) {
	t.Helper()
	key := newKey(t)
	p.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial),
		Subject:      subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	if usage == x509.ExtKeyUsageServerAuth {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		tmpl.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatalf("issuing the certificate of %s: %v", name, err)
	}
	crt, keyPath := p.path(name+".crt"), p.path(name+".key")
	writePEM(t, crt, "CERTIFICATE", der)
	writeKey(t, keyPath, key)
	return crt, keyPath
}

// serviceAccountKey writes sa.key, the API server's token signing key.
func (p *pki) serviceAccountKey(t *testing.T) string {
	path := p.path("sa.key")
	writeKey(t, path, newKey(t))
	return path
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generating a key: %v", err)
	}
	return key
}

func writeKey(t *testing.T, path string, key *ecdsa.PrivateKey) {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatalf("encoding a key: %v", err)
	}
	writePEM(t, path, "EC PRIVATE KEY", der)
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
}
