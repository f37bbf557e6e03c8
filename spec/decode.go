package spec

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// maxManifestBytes bounds what podsec reads from one manifest stream, so a
// hostile or mistaken input (a device, an endless pipe) cannot exhaust memory.
const maxManifestBytes = 16 << 20

// Document is one object of a manifest stream, as JSON.
type Document struct {
	// Index is the object's position in the stream, from 0. Items of a
	// v1 List get consecutive indexes of their own.
	Index int
	// TypeMeta holds the object's apiVersion and kind.
	TypeMeta metav1.TypeMeta
	// Raw is the object as JSON.
	Raw []byte
}

// DecodeError is a problem with one document of a manifest.
type DecodeError struct {
	Index int
	Errs  []error
}

// Error gives every problem of the document, one per line.
func (e *DecodeError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return fmt.Sprintf("document %d: %s", e.Index+1, strings.Join(msgs, "\n  "))
}

// Unwrap gives the problems to errors.Is and errors.As.
func (e *DecodeError) Unwrap() []error { return e.Errs }

// SplitDocuments reads a stream of YAML or JSON documents separated by
// "---" lines and returns each non-empty one as JSON. Duplicate keys are an
// error, as is a document that is not an object with apiVersion and kind.
// The items of a v1 List are returned as documents of their own.
func SplitDocuments(r io.Reader) ([]Document, error) {
	lr := &io.LimitedReader{R: r, N: maxManifestBytes + 1}
	yr := utilyaml.NewYAMLReader(bufio.NewReader(lr))
	var docs []Document
	for n := 0; ; n++ {
		chunk, err := yr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading manifest: %w", err)
		}
		if lr.N <= 0 {
			return nil, fmt.Errorf("reading manifest: %w: larger than %d bytes", ErrInvalidManifest, maxManifestBytes)
		}
		if len(bytes.TrimSpace(stripComments(chunk))) == 0 {
			continue
		}
		js, err := yaml.YAMLToJSONStrict(chunk)
		if err != nil {
			return nil, &DecodeError{Index: len(docs), Errs: []error{fmt.Errorf("%w: %v", ErrInvalidManifest, cleanYAMLError(err))}}
		}
		if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
			continue
		}
		more, err := typed(js, len(docs))
		if err != nil {
			return nil, err
		}
		docs = append(docs, more...)
	}
	return docs, nil
}

// typed reads the TypeMeta of one JSON document and expands a v1 List.
func typed(js []byte, index int) ([]Document, error) {
	var tm metav1.TypeMeta
	if err := kjson.UnmarshalCaseSensitivePreserveInts(js, &tm); err != nil {
		return nil, &DecodeError{Index: index, Errs: []error{fmt.Errorf("%w: not an object with apiVersion and kind: %v", ErrInvalidManifest, err)}}
	}
	var errs []error
	if tm.APIVersion == "" {
		errs = append(errs, fmt.Errorf("apiVersion: %w", ErrRequired))
	}
	if tm.Kind == "" {
		errs = append(errs, fmt.Errorf("kind: %w", ErrRequired))
	}
	if len(errs) > 0 {
		return nil, &DecodeError{Index: index, Errs: errs}
	}
	if tm.APIVersion != "v1" || tm.Kind != "List" {
		return []Document{{Index: index, TypeMeta: tm, Raw: js}}, nil
	}
	var list struct {
		Items []jsonRaw `json:"items"`
	}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(js, &list); err != nil {
		return nil, &DecodeError{Index: index, Errs: []error{fmt.Errorf("%w: v1 List: %v", ErrInvalidManifest, err)}}
	}
	var docs []Document
	for _, item := range list.Items {
		d, err := typed(item, index+len(docs))
		if err != nil {
			return nil, err
		}
		docs = append(docs, d...)
	}
	return docs, nil
}

type jsonRaw []byte

// UnmarshalJSON keeps the raw bytes of a list item.
func (r *jsonRaw) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// DecodePod decodes one document as a v1 Pod, strictly: an unknown or
// repeated field is an error naming its path
// ("spec.containers[0].securityContxt: unknown field").
func DecodePod(doc Document) (*corev1.Pod, error) {
	if doc.TypeMeta.APIVersion != "v1" || doc.TypeMeta.Kind != "Pod" {
		return nil, &DecodeError{Index: doc.Index, Errs: []error{fmt.Errorf("%w: %s %q: podsec reads Pods (apiVersion: v1, kind: Pod) and their ConfigMaps and Secrets here",
			ErrUnsupportedKind, doc.TypeMeta.Kind, doc.TypeMeta.APIVersion)}}
	}
	pod := &corev1.Pod{}
	if err := DecodeStrict(doc, pod); err != nil {
		return nil, err
	}
	return pod, nil
}

var strictRE = regexp.MustCompile(`^(unknown|duplicate) field "(.*)"$`)

// DecodeStrict decodes a document into obj, reporting every unknown and
// duplicate field with its path. Later issues decode other kinds with it.
func DecodeStrict(doc Document, obj any) error {
	strict, err := kjson.UnmarshalStrict(doc.Raw, obj)
	if err != nil {
		return &DecodeError{Index: doc.Index, Errs: []error{fmt.Errorf("%w: %s", ErrInvalidManifest, cleanJSONError(err))}}
	}
	if len(strict) == 0 {
		return nil
	}
	errs := make([]error, 0, len(strict))
	for _, s := range strict {
		if m := strictRE.FindStringSubmatch(s.Error()); m != nil {
			errs = append(errs, fmt.Errorf("%s: %w", m[2], sentinelFor(m[1])))
			continue
		}
		errs = append(errs, fmt.Errorf("%w: %v", ErrInvalidManifest, s))
	}
	return &DecodeError{Index: doc.Index, Errs: errs}
}

func sentinelFor(kind string) error {
	if kind == "duplicate" {
		return ErrDuplicateField
	}
	return ErrUnknownField
}

// DecodePods reads every document of a stream as a Pod and applies the API
// server's defaults to each.
func DecodePods(r io.Reader) ([]*corev1.Pod, error) {
	objs, err := DecodeObjects(r)
	if err != nil {
		return nil, err
	}
	if len(objs.ConfigMaps)+len(objs.Secrets) > 0 {
		return nil, fmt.Errorf("%w: ConfigMap and Secret documents are not read here", ErrUnsupportedKind)
	}
	return objs.Pods, nil
}

// Objects are the documents of a pod manifest: pods, and the ConfigMaps
// and Secrets their volumes and env refer to.
type Objects struct {
	Pods       []*corev1.Pod
	ConfigMaps []*corev1.ConfigMap
	Secrets    []*corev1.Secret
}

// DecodeObjects reads a stream of v1 Pods, ConfigMaps and Secrets, strictly,
// with the API server's defaults applied. Every problem of every document
// is reported.
func DecodeObjects(r io.Reader) (*Objects, error) {
	docs, err := SplitDocuments(r)
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%w: no objects in the manifest", ErrInvalidManifest)
	}
	objs := &Objects{}
	var errs []error
	for _, d := range docs {
		if err := objs.add(d); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(objs.Pods) == 0 {
		return nil, fmt.Errorf("%w: no Pod in the manifest", ErrInvalidManifest)
	}
	return objs, nil
}

func (o *Objects) add(d Document) error {
	if d.TypeMeta.APIVersion == "v1" {
		switch d.TypeMeta.Kind {
		case "ConfigMap":
			cm := &corev1.ConfigMap{}
			if err := DecodeStrict(d, cm); err != nil {
				return err
			}
			if cm.Namespace == "" {
				cm.Namespace = DefaultNamespace
			}
			if errs := ValidateConfigMap(cm); len(errs) > 0 {
				return invalidObject(d, "ConfigMap", cm.Name, errs)
			}
			o.ConfigMaps = append(o.ConfigMaps, cm)
			return nil
		case "Secret":
			sec := &corev1.Secret{}
			if err := DecodeStrict(d, sec); err != nil {
				return err
			}
			defaultSecret(sec)
			if errs := ValidateSecret(sec); len(errs) > 0 {
				return invalidObject(d, "Secret", sec.Name, errs)
			}
			o.Secrets = append(o.Secrets, sec)
			return nil
		}
	}
	pod, err := DecodePod(d)
	if err != nil {
		return err
	}
	SetDefaults(pod)
	o.Pods = append(o.Pods, pod)
	return nil
}

// defaultSecret merges stringData into data and defaults the type and
// namespace, as the API server stores a Secret.
func defaultSecret(s *corev1.Secret) {
	if s.Namespace == "" {
		s.Namespace = DefaultNamespace
	}
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
	for k, v := range s.StringData {
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}

var commentRE = regexp.MustCompile(`(?m)^\s*#.*$`)

func stripComments(b []byte) []byte { return commentRE.ReplaceAll(b, nil) }

// cleanYAMLError drops the library's prefixes so the user sees the problem.
func cleanYAMLError(err error) string {
	s := err.Error()
	for _, p := range []string{"error converting YAML to JSON: ", "yaml: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

var typeErrRE = regexp.MustCompile(`^json: cannot unmarshal (\S+) into Go struct field \S+? of type (\S+)$`)
var typeErrFieldRE = regexp.MustCompile(`Go struct field [A-Za-z0-9_]+\.(\S+) of type`)

// cleanJSONError turns encoding/json's type errors into "path: expected
// type, got kind" without Go type names of podsec's dependencies.
func cleanJSONError(err error) string {
	s := err.Error()
	if m := typeErrRE.FindStringSubmatch(s); m != nil {
		path := ""
		if f := typeErrFieldRE.FindStringSubmatch(s); f != nil {
			path = f[1] + ": "
		}
		return fmt.Sprintf("%sInvalid value: a %s where a %s is expected", path, m[1], goTypeName(m[2]))
	}
	return strings.TrimPrefix(s, "json: ")
}

func goTypeName(t string) string {
	switch {
	case strings.Contains(t, "int"):
		return "number"
	case strings.HasPrefix(t, "[]"):
		return "list"
	case strings.HasPrefix(t, "map"), strings.Contains(t, "."):
		return "object or " + t[strings.LastIndex(t, ".")+1:]
	}
	return t
}
