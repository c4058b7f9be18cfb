package dev.rlkafka.cli.observe;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rlkafka.schemas.serde.RecordDecodingException;
import org.apache.avro.specific.SpecificRecord;

import java.io.PrintStream;

/**
 * The core of {@code rlkafka tail}: decodes each record of one topic and prints it as a line (or JSON) when it
 * passes the filter. A record that does not decode prints one error line naming topic-partition@offset and
 * the reason, and the tail goes on.
 */
public final class Tail {
    private final TopicKind kind;
    private final RecordFilter filter;
    private final boolean json;
    private final PrintStream out;

    /** @throws IllegalArgumentException when a filter cannot apply to {@code kind}'s records */
    public Tail(TopicKind kind, RecordFilter filter, boolean json, PrintStream out) {
        filter.checkAppliesTo(kind);
        this.kind = kind;
        this.filter = filter;
        this.json = json;
        this.out = out;
    }

    /** @return whether a line was printed (the record passed the filter, or could not be decoded) */
    public boolean accept(RawRecord raw) {
        SpecificRecord value;
        try {
            value = kind.decode(raw);
        } catch (RecordDecodingException e) {
            // the message names topic-partition@offset, the expected type and the reason
            out.println(json ? errorJson(raw, e) : "! " + RecordFormat.oneLine(e.getMessage()));
            return true;
        }
        if (!filter.matches(value)) return false;
        out.println(json ? RecordFormat.json(raw, value) : RecordFormat.line(raw, value));
        return true;
    }

    private static String errorJson(RawRecord raw, RecordDecodingException e) {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("topic", raw.topic());
        node.put("partition", raw.partition());
        node.put("offset", raw.offset());
        node.put("key", raw.keyText());
        node.put("error", e.reason().name());
        node.put("message", e.getMessage());
        return node.toString();
    }
}
