package otlp

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// tracesData converts spans as otlptracehttp's transform does: one ResourceSpans per resource,
// in it one ScopeSpans per instrumentation scope, spans in their order. Resources and scopes
// come in the order they were first met (otlptracehttp's order is a map's).
func tracesData(spans []sdktrace.ReadOnlySpan) *tracepb.TracesData {
	type scopeKey struct {
		res   attribute.Distinct
		scope instrumentation.Scope
	}
	var (
		out    tracepb.TracesData
		byRes  = map[attribute.Distinct]*tracepb.ResourceSpans{}
		bySc   = map[scopeKey]*tracepb.ScopeSpans{}
		values = valueSlab{}
	)
	pbSpans := make([]tracepb.Span, len(spans))
	for i, sd := range spans {
		if sd == nil {
			continue
		}
		res := sd.Resource()
		k := scopeKey{res: res.Equivalent(), scope: sd.InstrumentationScope()}
		ss, ok := bySc[k]
		if !ok {
			ss = &tracepb.ScopeSpans{Scope: scopeOf(k.scope, &values), SchemaUrl: k.scope.SchemaURL}
			bySc[k] = ss
			rs, ok := byRes[k.res]
			if !ok {
				rs = &tracepb.ResourceSpans{Resource: &resourcepb.Resource{}, SchemaUrl: res.SchemaURL()}
				rs.Resource.Attributes = values.iter(res.Iter())
				byRes[k.res] = rs
				out.ResourceSpans = append(out.ResourceSpans, rs)
			}
			rs.ScopeSpans = append(rs.ScopeSpans, ss)
		}
		s := &pbSpans[i]
		fillSpan(s, sd, &values)
		ss.Spans = append(ss.Spans, s)
	}
	return &out
}

func scopeOf(sc instrumentation.Scope, values *valueSlab) *commonpb.InstrumentationScope {
	if sc == (instrumentation.Scope{}) {
		return nil
	}
	return &commonpb.InstrumentationScope{Name: sc.Name, Version: sc.Version, Attributes: values.iter(sc.Attributes.Iter())}
}

// fillSpan sets s to sd's fields, as otlptracehttp's transform does (the flags carry the W3C
// trace flags and say whether the parent is known to be remote).
func fillSpan(s *tracepb.Span, sd sdktrace.ReadOnlySpan, values *valueSlab) {
	sc := sd.SpanContext()
	tid, sid := sc.TraceID(), sc.SpanID()
	st := sd.Status()
	s.TraceId, s.SpanId = tid[:], sid[:]
	s.TraceState = sc.TraceState().String()
	s.Status = &tracepb.Status{Code: statusCode(st.Code), Message: st.Description}
	s.StartTimeUnixNano = uint64(max(0, sd.StartTime().UnixNano()))
	s.EndTimeUnixNano = uint64(max(0, sd.EndTime().UnixNano()))
	s.Kind = tracepb.Span_SpanKind(sd.SpanKind()) // the SDK's kinds are numbered as OTLP's
	if k := sd.SpanKind(); k < trace.SpanKindInternal || k > trace.SpanKindConsumer {
		s.Kind = tracepb.Span_SPAN_KIND_UNSPECIFIED
	}
	s.Name = sd.Name()
	s.Attributes = values.keyValues(sd.Attributes())
	s.DroppedAttributesCount = clamp(sd.DroppedAttributes())
	s.DroppedEventsCount = clamp(sd.DroppedEvents())
	s.DroppedLinksCount = clamp(sd.DroppedLinks())
	if evs := sd.Events(); len(evs) > 0 {
		s.Events = make([]*tracepb.Span_Event, len(evs))
		for i := range evs {
			s.Events[i] = &tracepb.Span_Event{Name: evs[i].Name, TimeUnixNano: uint64(max(0, evs[i].Time.UnixNano())),
				Attributes: values.keyValues(evs[i].Attributes), DroppedAttributesCount: clamp(evs[i].DroppedAttributeCount)}
		}
	}
	if ls := sd.Links(); len(ls) > 0 {
		s.Links = make([]*tracepb.Span_Link, len(ls))
		for i := range ls {
			lt, lsid := ls[i].SpanContext.TraceID(), ls[i].SpanContext.SpanID()
			s.Links[i] = &tracepb.Span_Link{TraceId: lt[:], SpanId: lsid[:], Attributes: values.keyValues(ls[i].Attributes),
				DroppedAttributesCount: clamp(ls[i].DroppedAttributeCount), Flags: flags(ls[i].SpanContext.TraceFlags(), ls[i].SpanContext)}
		}
	}
	parent := sd.Parent()
	if psid := parent.SpanID(); psid.IsValid() {
		s.ParentSpanId = psid[:]
	}
	s.Flags = flags(sc.TraceFlags(), parent)
}

func statusCode(c codes.Code) tracepb.Status_StatusCode {
	switch c {
	case codes.Ok:
		return tracepb.Status_STATUS_CODE_OK
	case codes.Error:
		return tracepb.Status_STATUS_CODE_ERROR
	}
	return tracepb.Status_STATUS_CODE_UNSET
}

// flags are the W3C trace flags, the bit saying that whether the parent is remote is known, and
// that bit's value.
func flags(tf trace.TraceFlags, parent trace.SpanContext) uint32 {
	f := uint32(tf) | uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK)
	if parent.IsRemote() {
		f |= uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK)
	}
	return f
}

func clamp(n int) uint32 {
	return uint32(min(max(n, 0), 1<<32-1))
}

// valueSlab hands out the KeyValues and AnyValues of one export from chunks, instead of an
// allocation each: a request span has about 14 attributes.
type valueSlab struct {
	kvs  []commonpb.KeyValue
	anys []commonpb.AnyValue
}

const slabChunk = 256

func (v *valueSlab) kv() *commonpb.KeyValue {
	if len(v.kvs) == 0 {
		v.kvs = make([]commonpb.KeyValue, slabChunk)
	}
	kv := &v.kvs[0]
	v.kvs = v.kvs[1:]
	return kv
}

func (v *valueSlab) anyValue() *commonpb.AnyValue {
	if len(v.anys) == 0 {
		v.anys = make([]commonpb.AnyValue, slabChunk)
	}
	a := &v.anys[0]
	v.anys = v.anys[1:]
	return a
}

// keyValues converts attrs (nil for none, as otlptracehttp leaves it).
func (v *valueSlab) keyValues(attrs []attribute.KeyValue) []*commonpb.KeyValue {
	if len(attrs) == 0 {
		return nil
	}
	out := make([]*commonpb.KeyValue, len(attrs))
	for i, a := range attrs {
		kv := v.kv()
		kv.Key, kv.Value = string(a.Key), v.value(a.Value)
		out[i] = kv
	}
	return out
}

// iter converts the attributes of a set (a resource's, a scope's).
func (v *valueSlab) iter(it attribute.Iterator) []*commonpb.KeyValue {
	if it.Len() == 0 {
		return nil
	}
	out := make([]*commonpb.KeyValue, 0, it.Len())
	for it.Next() {
		a := it.Attribute()
		kv := v.kv()
		kv.Key, kv.Value = string(a.Key), v.value(a.Value)
		out = append(out, kv)
	}
	return out
}

// value converts one attribute value, of any type the attribute package has.
func (v *valueSlab) value(x attribute.Value) *commonpb.AnyValue {
	av := v.anyValue()
	switch x.Type() {
	case attribute.BOOL:
		av.Value = &commonpb.AnyValue_BoolValue{BoolValue: x.AsBool()}
	case attribute.INT64:
		av.Value = &commonpb.AnyValue_IntValue{IntValue: x.AsInt64()}
	case attribute.FLOAT64:
		av.Value = &commonpb.AnyValue_DoubleValue{DoubleValue: x.AsFloat64()}
	case attribute.STRING:
		av.Value = &commonpb.AnyValue_StringValue{StringValue: x.AsString()}
	case attribute.BYTESLICE:
		av.Value = &commonpb.AnyValue_BytesValue{BytesValue: x.AsByteSlice()}
	case attribute.BOOLSLICE:
		av.Value = array(x.AsBoolSlice(), func(a *commonpb.AnyValue, b bool) { a.Value = &commonpb.AnyValue_BoolValue{BoolValue: b} })
	case attribute.INT64SLICE:
		av.Value = array(x.AsInt64Slice(), func(a *commonpb.AnyValue, n int64) { a.Value = &commonpb.AnyValue_IntValue{IntValue: n} })
	case attribute.FLOAT64SLICE:
		av.Value = array(x.AsFloat64Slice(), func(a *commonpb.AnyValue, f float64) { a.Value = &commonpb.AnyValue_DoubleValue{DoubleValue: f} })
	case attribute.STRINGSLICE:
		av.Value = array(x.AsStringSlice(), func(a *commonpb.AnyValue, s string) { a.Value = &commonpb.AnyValue_StringValue{StringValue: s} })
	case attribute.SLICE:
		vals := x.AsSlice()
		arr := make([]*commonpb.AnyValue, len(vals))
		for i := range vals {
			arr[i] = v.value(vals[i])
		}
		av.Value = &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: arr}}
	case attribute.MAP:
		av.Value = &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: v.keyValues(x.AsMap())}}
	case attribute.EMPTY:
	default:
		av.Value = &commonpb.AnyValue_StringValue{StringValue: "INVALID"}
	}
	return av
}

// array converts a slice attribute's elements (set sets one, the oneof's type being unexported).
func array[T any](xs []T, set func(*commonpb.AnyValue, T)) *commonpb.AnyValue_ArrayValue {
	vals := make([]*commonpb.AnyValue, len(xs))
	for i, x := range xs {
		vals[i] = &commonpb.AnyValue{}
		set(vals[i], x)
	}
	return &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vals}}
}
