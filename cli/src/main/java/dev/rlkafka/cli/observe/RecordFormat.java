package dev.rlkafka.cli.observe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlkafka.schemas.avro.DeadLetter;
import dev.rlkafka.schemas.avro.Metric;
import dev.rlkafka.schemas.avro.Prompt;
import dev.rlkafka.schemas.avro.Reward;
import dev.rlkafka.schemas.avro.Rollout;
import dev.rlkafka.schemas.avro.ScoredGroup;
import dev.rlkafka.schemas.avro.WeightChunk;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.specific.SpecificRecord;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * How a decoded record reads on a terminal: one compact line per record, or the whole record as JSON
 * (field names as in the {@code .avsc}; timestamps ISO-8601; bytes as length and, when short, base64).
 */
public final class RecordFormat {
    /** Prompt and completion texts longer than this are cut in a line (JSON keeps them whole). */
    static final int TEXT_LIMIT = 48;
    /** Bytes fields up to this size are written out in JSON; longer ones (weight chunks) only by length. */
    static final int JSON_BYTES_LIMIT = 4096;
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private RecordFormat() {
    }

    /** {@code where  <the record's line>}. */
    public static String line(RawRecord raw, SpecificRecord value) {
        return raw.where() + "  " + line(value);
    }

    /** One line that says what the record is, e.g. {@code reward g-3/1 exact-answer=1.000}. */
    public static String line(SpecificRecord value) {
        if (value instanceof Prompt p) {
            return "prompt %s %s %s ref=%s G=%d".formatted(p.getPromptId(), p.getTask(), quote(p.getText()),
                    p.getReferenceAnswer(), p.getGroupSize());
        }
        if (value instanceof Rollout r) {
            return "rollout %s v%d %s -> %s %s %d tok gen=%s".formatted(r.getRolloutId(), r.getPolicyVersion(),
                    quote(r.getPromptText()), quote(r.getCompletionText()), r.getFinishReason(),
                    r.getCompletionTokenIds().size(), r.getGeneratorId());
        }
        if (value instanceof Reward r) {
            return "reward %s %s=%s%s".formatted(r.getRolloutId(), r.getScorerId(), score(r.getScore()),
                    r.getRationale() == null ? "" : " " + quote(r.getRationale()));
        }
        if (value instanceof ScoredGroup g) {
            String versions = g.getRollouts().stream().map(r -> "v" + r.getPolicyVersion()).distinct().collect(Collectors.joining(","));
            String rewards = g.getRewards().stream().map(RecordFormat::score).collect(Collectors.joining(" "));
            String prompt = g.getRollouts().isEmpty() ? "" : " " + quote(g.getRollouts().get(0).getPromptText());
            return "scored-group %s %s%s %s rewards [%s]%s".formatted(g.getGroupId(), g.getTask(), prompt, versions, rewards,
                    g.getMissingScorers().isEmpty() ? "" : " missing " + g.getMissingScorers());
        }
        if (value instanceof WeightChunk c) {
            long bytes = c.getBytes() == null ? 0 : c.getBytes().remaining();
            return "weights v%d step %d chunk %d/%d %d of %d bytes sha256 %s%s".formatted(c.getVersion(), c.getStep(),
                    c.getChunkIndex() + 1, c.getChunkCount(), bytes, c.getTotalBytes(), head(c.getSha256(), 12),
                    c.getBlobUri() == null ? "" : " blob " + c.getBlobUri());
        }
        if (value instanceof Metric m) {
            String values = new TreeMap<>(m.getValues()).entrySet().stream()
                    .map(e -> e.getKey() + "=" + number(e.getValue())).collect(Collectors.joining(" "));
            return "metric %s %s%s%s %s".formatted(m.getServiceId(), m.getKind(),
                    m.getStep() < 0 ? "" : " step " + m.getStep(), m.getPolicyVersion() < 0 ? "" : " v" + m.getPolicyVersion(), values);
        }
        if (value instanceof DeadLetter d) {
            return "dead-letter %s from %s-%d@%d by %s: %s".formatted(d.getErrorType(), d.getSourceTopic(),
                    d.getSourcePartition(), d.getSourceOffset(), d.getServiceId(), oneLine(d.getReason()));
        }
        throw new IllegalArgumentException("no line format for " + value.getClass().getName());
    }

    /** The record with where it came from, as one line of JSON. */
    public static String json(RawRecord raw, SpecificRecord value) {
        ObjectNode node = NODES.objectNode();
        node.put("topic", raw.topic());
        node.put("partition", raw.partition());
        node.put("offset", raw.offset());
        node.put("key", raw.keyText());
        node.put("type", value.getSchema().getName());
        node.set("value", toJson(value));
        return node.toString();
    }

    /** Any value of a generated Avro class as a JSON tree, field by field in schema order. */
    static JsonNode toJson(Object value) {
        if (value == null) return NODES.nullNode();
        if (value instanceof SpecificRecord record) {
            ObjectNode node = NODES.objectNode();
            for (Schema.Field field : record.getSchema().getFields()) node.set(field.name(), toJson(record.get(field.pos())));
            return node;
        }
        if (value instanceof CharSequence || value instanceof Enum<?> || value instanceof GenericEnumSymbol<?>) {
            return NODES.textNode(value.toString());
        }
        if (value instanceof Integer i) return NODES.numberNode(i);
        if (value instanceof Long l) return NODES.numberNode(l);
        if (value instanceof Float f) return NODES.numberNode(f);
        if (value instanceof Double d) return NODES.numberNode(d);
        if (value instanceof Boolean b) return NODES.booleanNode(b);
        if (value instanceof Instant t) return NODES.textNode(t.toString());
        if (value instanceof ByteBuffer buffer) {
            ObjectNode node = NODES.objectNode();
            ByteBuffer bytes = buffer.duplicate();
            node.put("length", bytes.remaining());
            if (bytes.remaining() <= JSON_BYTES_LIMIT) {
                byte[] copy = new byte[bytes.remaining()];
                bytes.get(copy);
                node.put("base64", Base64.getEncoder().encodeToString(copy));
            }
            return node;
        }
        if (value instanceof List<?> list) {
            ArrayNode array = NODES.arrayNode(list.size());
            list.forEach(item -> array.add(toJson(item)));
            return array;
        }
        if (value instanceof Map<?, ?> map) {
            ObjectNode node = NODES.objectNode();
            map.forEach((k, v) -> node.set(k.toString(), toJson(v)));
            return node;
        }
        throw new IllegalArgumentException("no JSON form for a " + value.getClass().getName() + " in an Avro record");
    }

    /** Parses a line {@link #json} wrote (for tests and scripts). */
    public static JsonNode parse(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
        }
    }

    /** Text in double quotes, control characters escaped, cut at {@link #TEXT_LIMIT} characters. */
    static String quote(String text) {
        if (text == null) return "null";
        String cut = text.length() > TEXT_LIMIT ? text.substring(0, TEXT_LIMIT) + "…" : text;
        StringBuilder out = new StringBuilder(cut.length() + 2).append('"');
        for (char c : cut.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) out.append("\\u%04x".formatted((int) c));
                    else out.append(c);
                }
            }
        }
        return out.append('"').toString();
    }

    /** A message on one line: a tail line must not break in two. */
    static String oneLine(String text) {
        return text == null ? "" : text.replace("\r", "\\r").replace("\n", "\\n");
    }

    static String score(double score) {
        return String.format(Locale.ROOT, "%.3f", score);
    }

    /** Integers as integers (counts), anything else to 4 significant digits without trailing zeros. */
    static String number(double value) {
        if (value == Math.rint(value) && Math.abs(value) < 1e15) return Long.toString((long) value);
        String text = String.format(Locale.ROOT, "%.4g", value);
        return text.contains("e") || !text.contains(".") ? text : text.replaceAll("0+$", "").replaceAll("\\.$", "");
    }

    private static String head(String text, int n) {
        return text.length() <= n ? text : text.substring(0, n);
    }
}
