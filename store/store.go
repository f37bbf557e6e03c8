package store

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	kjson "sigs.k8s.io/json"

	"github.com/podsec/podsec/internal/atomicfile"
)

// DefaultNamespace is the namespace of a namespaced object that names none.
const DefaultNamespace = "default"

// Result says what Apply did, in kubectl's words.
type Result string

// The results of Apply.
const (
	Created    Result = "created"
	Configured Result = "configured"
	Unchanged  Result = "unchanged"
)

// Store is the object store under one state root.
type Store struct {
	dir  string // <root>/objects
	reg  *registry
	now  func() time.Time
	lock string
	// genPath is the generation file (generationFile).
	genPath string
	// cache is what AdmissionObjects made of the last generation read.
	cache cache
}

// Open opens, creating it if needed, the store of the state root with the
// kinds of Kinds.
func Open(root string) (*Store, error) {
	return OpenKinds(root, Kinds())
}

// OpenKinds opens the store of root for a table of kinds.
func OpenKinds(root string, kinds []Kind) (*Store, error) {
	reg, err := newRegistry(kinds)
	if err != nil {
		return nil, fmt.Errorf("opening object store: %w", err)
	}
	dir := filepath.Join(root, "objects")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("opening object store: %w", err)
	}
	s := &Store{dir: dir, reg: reg, now: time.Now, lock: filepath.Join(dir, ".lock"), genPath: filepath.Join(dir, generationFile)}
	// A store it cannot give a generation (read-only) is read whole for
	// every admission, as before generations.
	_ = s.ensureGeneration()
	return s, nil
}

// Kinds returns the store's table of kinds.
func (s *Store) Kinds() []Kind { return s.reg.kinds }

// Resolve finds a kind by a name kubectl accepts: plural, singular, short
// name, each optionally with ".group".
func (s *Store) Resolve(name string) (*Kind, error) { return s.reg.resolve(name) }

// KindOf finds the kind of a manifest's apiVersion and kind.
func (s *Store) KindOf(apiVersion, kind string) (*Kind, error) { return s.reg.byType(apiVersion, kind) }

// Apply creates obj or replaces the object of the same kind, namespace and
// name, after defaulting and validating it. It returns what it did and the
// object as stored.
func (s *Store) Apply(obj Object) (Result, Object, error) {
	return s.put(obj, false)
}

// Create stores obj, defaulted and validated, and fails with an
// AlreadyExistsError if an object of that kind, namespace and name exists.
func (s *Store) Create(obj Object) (Object, error) {
	_, obj, err := s.put(obj, true)
	return obj, err
}

func (s *Store) put(obj Object, createOnly bool) (Result, Object, error) {
	gvk := obj.GetObjectKind().GroupVersionKind()
	k, err := s.reg.byType(gvk.GroupVersion().String(), gvk.Kind)
	if err != nil {
		return "", nil, err
	}
	if err := s.prepare(k, obj); err != nil {
		return "", nil, err
	}
	unlock, err := s.flock(true)
	if err != nil {
		return "", nil, err
	}
	defer unlock()

	rel := objectPath(k, obj.GetNamespace(), obj.GetName())
	old, err := s.read(k, rel, obj.GetName())
	result := Created
	switch {
	case err == nil && createOnly:
		return "", nil, &AlreadyExistsError{Resource: k.Resource(), Name: obj.GetName()}
	case err == nil:
		obj.SetUID(old.GetUID())
		obj.SetCreationTimestamp(old.GetCreationTimestamp())
		result = Configured
	case errors.Is(err, ErrNotFound):
		obj.SetUID(newUID())
		obj.SetCreationTimestamp(metav1.NewTime(s.now().UTC().Truncate(time.Second)))
	default:
		return "", nil, err
	}
	data, err := json.MarshalIndent(obj, "", "  ")
	if err != nil {
		return "", nil, fmt.Errorf("encoding %s %q: %w", k.Kind, obj.GetName(), err)
	}
	data = append(data, '\n')
	if result == Configured {
		if oldData, err := json.MarshalIndent(old, "", "  "); err == nil && bytes.Equal(append(oldData, '\n'), data) {
			return Unchanged, obj, nil
		}
	}
	if err := s.invalidate(); err != nil {
		return "", nil, err
	}
	// A new generation even when the write failed: the old object may
	// or may not be replaced, and a new token is right either way.
	err = s.write(rel, data)
	if berr := s.bump(); err == nil {
		err = berr
	}
	if err != nil {
		return "", nil, err
	}
	return result, obj, nil
}

// prepare sets the stored apiVersion, defaults and validates obj.
func (s *Store) prepare(k *Kind, obj Object) error {
	obj.GetObjectKind().SetGroupVersionKind(schema.FromAPIVersionAndKind(k.APIVersions[0], k.Kind))
	if k.Namespaced && obj.GetNamespace() == "" {
		obj.SetNamespace(DefaultNamespace)
	}
	if !k.Namespaced {
		obj.SetNamespace("") // as the API server ignores it for cluster-scoped kinds
	}
	// Set by the store only.
	obj.SetUID("")
	obj.SetCreationTimestamp(metav1.Time{})
	if k.Default != nil {
		k.Default(obj)
	}
	errs := validateMeta(k, obj)
	if k.Validate != nil {
		errs = append(errs, k.Validate(obj)...)
	}
	if len(errs) > 0 {
		return &InvalidError{Kind: k.Kind, Name: obj.GetName(), Errs: uniqueErrors(errs)}
	}
	return nil
}

// uniqueErrors drops repeats: a kind's Validate may check metadata again.
func uniqueErrors(errs field.ErrorList) field.ErrorList {
	seen := map[string]bool{}
	var out field.ErrorList
	for _, e := range errs {
		if !seen[e.Error()] {
			seen[e.Error()] = true
			out = append(out, e)
		}
	}
	return out
}

// Get returns one object. plural names the kind (Kind.Plural); namespace is
// ignored for cluster-scoped kinds and defaults to "default".
func (s *Store) Get(plural, namespace, name string) (Object, error) {
	k, namespace, err := s.target(plural, namespace, name)
	if err != nil {
		return nil, err
	}
	unlock, err := s.flock(false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return s.read(k, objectPath(k, namespace, name), name)
}

// List returns the objects of a kind, sorted by namespace and name. For a
// namespaced kind, namespace "" lists every namespace.
func (s *Store) List(plural, namespace string) ([]Object, error) {
	k, err := s.kindByPlural(plural)
	if err != nil {
		return nil, err
	}
	if k.Namespaced && namespace != "" {
		if msgs := apivalidation.ValidateNamespaceName(namespace, false); len(msgs) > 0 {
			return nil, &InvalidError{Kind: "Namespace", Name: namespace, Errs: field.ErrorList{field.Invalid(metadataPath.Child("name"), namespace, msgs[0])}}
		}
	}
	unlock, err := s.flock(false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return s.list(k, namespace)
}

// Delete removes one object; a missing one is a NotFoundError.
func (s *Store) Delete(plural, namespace, name string) error {
	k, namespace, err := s.target(plural, namespace, name)
	if err != nil {
		return err
	}
	unlock, err := s.flock(true)
	if err != nil {
		return err
	}
	defer unlock()
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return fmt.Errorf("opening object store: %w", err)
	}
	defer root.Close()
	rel := objectPath(k, namespace, name)
	if _, err := root.Lstat(rel); errors.Is(err, fs.ErrNotExist) {
		return &NotFoundError{Resource: k.Resource(), Name: name}
	}
	if err := s.invalidate(); err != nil {
		return err
	}
	err = root.Remove(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		err = &NotFoundError{Resource: k.Resource(), Name: name}
	case err != nil:
		err = fmt.Errorf("deleting %s %q: %w", k.Kind, name, err)
	default:
		err = syncDir(root, filepath.Dir(rel))
	}
	if berr := s.bump(); err == nil {
		err = berr
	}
	return err
}

func (s *Store) kindByPlural(plural string) (*Kind, error) {
	for i := range s.reg.kinds {
		if s.reg.kinds[i].Plural == plural {
			return &s.reg.kinds[i], nil
		}
	}
	return nil, &kindError{fmt.Sprintf("the server doesn't have a resource type %q", plural)}
}

// target checks the kind, namespace and name of a request for one object.
func (s *Store) target(plural, namespace, name string) (*Kind, string, error) {
	k, err := s.kindByPlural(plural)
	if err != nil {
		return nil, "", err
	}
	if !k.Namespaced {
		namespace = ""
	} else if namespace == "" {
		namespace = DefaultNamespace
	}
	return k, namespace, checkName(k, namespace, name)
}

// checkName refuses a name or namespace that is not valid for the kind,
// so that it can never be a path ("../x", "a/b").
func checkName(k *Kind, namespace, name string) error {
	errs := validateName(k, name)
	if k.Namespaced {
		for _, msg := range apivalidation.ValidateNamespaceName(namespace, false) {
			errs = append(errs, field.Invalid(metadataPath.Child("namespace"), namespace, msg))
		}
	}
	if len(errs) > 0 {
		return &InvalidError{Kind: k.Kind, Name: name, Errs: errs}
	}
	return nil
}

// objectPath is the object's file relative to the objects directory. Its
// parts were validated: none holds a "/" or is "..".
func objectPath(k *Kind, namespace, name string) string {
	if k.Namespaced {
		return filepath.Join(k.Plural, namespace, name+".json")
	}
	return filepath.Join(k.Plural, name+".json")
}

// read decodes one stored object; a missing file is a NotFoundError.
func (s *Store) read(k *Kind, rel, name string) (Object, error) {
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return nil, fmt.Errorf("opening object store: %w", err)
	}
	defer root.Close()
	data, err := root.ReadFile(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NotFoundError{Resource: k.Resource(), Name: name}
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s %q: %w", k.Kind, name, err)
	}
	return decode(k, data, rel)
}

func decode(k *Kind, data []byte, rel string) (Object, error) {
	obj := k.New()
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, obj); err != nil {
		return nil, fmt.Errorf("reading %s: %w", rel, err)
	}
	return obj, nil
}

func (s *Store) list(k *Kind, namespace string) ([]Object, error) {
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return nil, fmt.Errorf("opening object store: %w", err)
	}
	defer root.Close()
	var dirs []string
	switch {
	case !k.Namespaced:
		dirs = []string{k.Plural}
	case namespace != "":
		dirs = []string{filepath.Join(k.Plural, namespace)}
	default:
		entries, err := fs.ReadDir(root.FS(), k.Plural)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("listing %s: %w", k.Plural, err)
		}
		for _, e := range entries {
			if e.IsDir() {
				dirs = append(dirs, filepath.Join(k.Plural, e.Name()))
			}
		}
	}
	var objs []Object
	for _, d := range dirs {
		entries, err := fs.ReadDir(root.FS(), d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", k.Plural, err)
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") || !strings.HasSuffix(e.Name(), ".json") {
				continue
			}
			rel := filepath.Join(d, e.Name())
			data, err := root.ReadFile(rel)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", rel, err)
			}
			obj, err := decode(k, data, rel)
			if err != nil {
				return nil, err
			}
			objs = append(objs, obj)
		}
	}
	sort.Slice(objs, func(i, j int) bool {
		if objs[i].GetNamespace() != objs[j].GetNamespace() {
			return objs[i].GetNamespace() < objs[j].GetNamespace()
		}
		return objs[i].GetName() < objs[j].GetName()
	})
	return objs, nil
}

// write replaces rel with data atomically: a synced temporary file renamed
// over it, then the directory synced.
func (s *Store) write(rel string, data []byte) error {
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return fmt.Errorf("opening object store: %w", err)
	}
	defer root.Close()
	dir := filepath.Dir(rel)
	if err := root.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("writing %s: %w", rel, err)
	}
	if err := atomicfile.WriteIn(root, rel, data, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", rel, err)
	}
	return nil
}

func syncDir(root *os.Root, dir string) error {
	d, err := root.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return b
}

// newUID is a random (version 4) UUID, as the API server gives objects.
func newUID() types.UID {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return types.UID(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:])
}
