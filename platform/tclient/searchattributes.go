package tclient

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// EnsureSearchAttributes adds the attributes in want that the namespace does not have yet and
// fails when one exists with another type.
func EnsureSearchAttributes(ctx context.Context, op operatorservice.OperatorServiceClient, namespace string, want map[string]enumspb.IndexedValueType) error {
	if len(want) == 0 {
		return nil
	}
	have, err := op.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes of namespace %q: %w", namespace, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range want {
		got, ok := have.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = typ
		case got != typ:
			return fmt.Errorf("search attribute %s of namespace %q is %s, want %s", name, namespace, got, typ)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = op.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        namespace,
		SearchAttributes: missing,
	})
	var exists *serviceerror.AlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("add search attributes to namespace %q: %w", namespace, err)
	}
	return nil
}

// AwaitSearchAttributes waits until the namespace's frontend takes queries on every attribute
// in want. Added attributes reach the frontend's namespace cache some seconds after
// AddSearchAttributes returns; a workflow started in between is refused ("no mapping defined
// for search attribute"). A count query naming them all is refused the same way until then.
func AwaitSearchAttributes(ctx context.Context, c client.Client, want map[string]enumspb.IndexedValueType, limit time.Duration) error {
	var clauses []string
	for _, name := range slices.Sorted(maps.Keys(want)) {
		switch want[name] {
		case enumspb.INDEXED_VALUE_TYPE_INT, enumspb.INDEXED_VALUE_TYPE_DOUBLE:
			clauses = append(clauses, name+" = 0")
		case enumspb.INDEXED_VALUE_TYPE_DATETIME:
			clauses = append(clauses, name+" = '2000-01-01T00:00:00Z'")
		case enumspb.INDEXED_VALUE_TYPE_BOOL:
			clauses = append(clauses, name+" = false")
		default:
			clauses = append(clauses, name+" = ''")
		}
	}
	if len(clauses) == 0 {
		return nil
	}
	query := strings.Join(clauses, " OR ")
	deadline := time.Now().Add(limit)
	for {
		_, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: query})
		if err == nil {
			return nil
		}
		var invalid *serviceerror.InvalidArgument
		if !errors.As(err, &invalid) || time.Now().After(deadline) {
			return fmt.Errorf("the namespace's search attributes are not usable yet: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
