import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.tika.metadata.Metadata;
import org.apache.tika.parser.AutoDetectParser;
import org.apache.tika.parser.ParseContext;
import org.apache.tika.sax.BodyContentHandler;

/** Measurement probe: extracts every file of a directory with Tika's AutoDetectParser and
 *  writes, per file, its name, milliseconds and text to an output directory. */
public final class TikaExtract {
    public static void main(String[] args) throws Exception {
        Path in = Path.of(args[0]);
        Path out = Path.of(args[1]);
        AutoDetectParser parser = new AutoDetectParser();
        List<Path> files;
        try (Stream<Path> listed = Files.list(in)) {
            files = listed.sorted().collect(Collectors.toList());
        }
        StringBuilder timings = new StringBuilder();
        for (Path file : files) {
            byte[] data = Files.readAllBytes(file);
            long started = System.nanoTime();
            String text;
            try {
                BodyContentHandler handler = new BodyContentHandler(-1);
                parser.parse(new ByteArrayInputStream(data), handler, new Metadata(), new ParseContext());
                text = handler.toString();
            } catch (Exception e) {
                text = "";
            }
            long micros = (System.nanoTime() - started) / 1000;
            Files.writeString(out.resolve(file.getFileName().toString() + ".txt"), text);
            timings.append(file.getFileName()).append('\t').append(micros).append('\n');
        }
        Files.writeString(out.resolve("timings.tsv"), timings.toString());
    }
}
