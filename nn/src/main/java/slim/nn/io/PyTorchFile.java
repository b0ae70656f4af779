package slim.nn.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import slim.nn.SlimException;

/**
 * The tensors of a {@code torch.save} file ({@code pytorch_model.bin} and its shards), as {@link TensorInfo}s that
 * point straight at their bytes inside the zip, so {@link Checkpoint} maps and reads them as it does safetensors.
 * The zip holds {@code <top>/data.pkl} (the state dict's pickle, read by {@link TorchPickle}) and one entry
 * {@code <top>/data/<key>} per storage, stored uncompressed; a tensor is a contiguous run of its storage.
 */
final class PyTorchFile {
    private static final byte[] ZIP_MAGIC = {'P', 'K', 3, 4};
    /** Protocol-2 pickles start so; torch.save wrote its pre-1.6 format as a sequence of them, with no zip. */
    private static final int PICKLE_PROTO = 0x80;

    private static final int STORED = 0;
    /** data.pkl of a state dict holds a few hundred bytes per tensor: anything this large is not one. */
    private static final long MAX_PICKLE_BYTES = 100L << 20;

    private PyTorchFile() {}

    /** True for the names torch.save checkpoints go by: pytorch_model.bin and its shards. */
    static boolean isBin(Path file) {
        return file.getFileName().toString().endsWith(".bin");
    }

    /**
     * Reads the pickle and the zip's directory (not the tensors' bytes) and checks every tensor against its storage.
     */
    static Map<String, TensorInfo> readHeader(Path file) {
        checkMagic(file);
        try (ZipFile zip = ZipFile.builder().setPath(file).get()) {
            long fileSize = Files.size(file);
            ZipArchiveEntry pickle = pickleEntry(file, zip);
            String top = pickle.getName().substring(0, pickle.getName().length() - "data.pkl".length());
            checkByteOrder(file, zip, top);
            Map<String, TorchPickle.Tensor> stateDict =
                    TorchPickle.stateDict(readEntry(file, zip, pickle), file + ": " + pickle.getName());
            Map<String, ZipArchiveEntry> storages = new HashMap<>();
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, TorchPickle.Tensor> e : stateDict.entrySet()) {
                TorchPickle.Storage s = e.getValue().storage();
                ZipArchiveEntry entry =
                        storages.computeIfAbsent(s.key(), key -> storageEntry(file, zip, top, s, fileSize));
                tensors.put(e.getKey(), tensor(file, e.getKey(), e.getValue(), entry));
            }
            return tensors;
        } catch (IOException e) {
            throw new SlimException(
                    file + ": not a readable PyTorch zip checkpoint (truncated or damaged?): " + e.getMessage(), e);
        }
    }

    /** Tells the pre-zip format and non-zip files apart from a damaged zip, each with what to do. */
    private static void checkMagic(Path file) {
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(file)) {
            int n = in.readNBytes(head, 0, 4);
            if (n == 4 && Arrays.equals(head, ZIP_MAGIC)) return;
            if (n > 0 && (head[0] & 0xff) == PICKLE_PROTO) {
                throw new SlimException(file + ": PyTorch's legacy (pre-1.6) checkpoint format, which slim does not"
                        + " read; convert it once with torch >= 1.6: torch.save(torch.load(f), f) writes the zip"
                        + " format,"
                        + " or safetensors.torch.save_file(torch.load(f), 'model.safetensors') writes safetensors");
            }
            throw new SlimException(
                    file + ": not a PyTorch checkpoint (no zip signature at its start;" + " truncated or damaged?)");
        } catch (IOException e) {
            throw new SlimException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static ZipArchiveEntry pickleEntry(Path file, ZipFile zip) {
        ZipArchiveEntry found = null;
        for (ZipArchiveEntry e :
                (Iterable<ZipArchiveEntry>) () -> zip.getEntries().asIterator()) {
            String name = e.getName();
            int slash = name.lastIndexOf('/');
            if (name.substring(slash + 1).equals("data.pkl")
                    && name.indexOf('/') == slash) { // data.pkl or top/data.pkl
                if (found != null) {
                    throw new SlimException(file + ": two state dicts (" + found.getName() + ", " + name + ")");
                }
                found = e;
            }
        }
        if (found == null) throw new SlimException(file + ": a zip without data.pkl, so not a torch.save checkpoint");
        return found;
    }

    private static void checkByteOrder(Path file, ZipFile zip, String top) throws IOException {
        ZipArchiveEntry order = zip.getEntry(top + "byteorder");
        if (order == null) return; // written since torch 1.10; older files are little-endian
        String value = new String(readEntry(file, zip, order), StandardCharsets.US_ASCII).strip();
        if (!value.equals("little")) {
            throw new SlimException(file + ": storages are " + value + "-endian; slim reads little-endian only");
        }
    }

    private static byte[] readEntry(Path file, ZipFile zip, ZipArchiveEntry entry) throws IOException {
        if (entry.getSize() > MAX_PICKLE_BYTES) {
            throw new SlimException(
                    file + ": " + entry.getName() + " is " + entry.getSize() + " bytes, absurd for a state dict");
        }
        byte[] bytes;
        try (InputStream in = zip.getInputStream(entry)) {
            bytes = in.readAllBytes();
        }
        // The zip records every entry's CRC-32: a pickle damaged in one byte may still parse, into another offset,
        // shape or storage, so its bytes are checked before they are believed (storages are not: that would read
        // the whole file where pruning maps only the kept layers).
        CRC32 crc = new CRC32();
        crc.update(bytes);
        if (entry.getCrc() != -1 && crc.getValue() != entry.getCrc()) {
            throw new SlimException(file + ": " + entry.getName() + " is damaged: its CRC-32 is "
                    + Long.toHexString(crc.getValue()) + " but the zip records " + Long.toHexString(entry.getCrc()));
        }
        return bytes;
    }

    /**
     * The zip entry holding a storage, checked to be stored uncompressed, whole, and as long as its element count says.
     */
    private static ZipArchiveEntry storageEntry(
            Path file, ZipFile zip, String top, TorchPickle.Storage s, long fileSize) {
        String name = top + "data/" + s.key();
        ZipArchiveEntry entry = zip.getEntry(name);
        if (entry == null) {
            throw new SlimException(file + ": the state dict names storage " + s.key() + " but the zip has no " + name);
        }
        if (entry.getMethod() != STORED) {
            throw new SlimException(file + ": " + name + " is compressed (zip method " + entry.getMethod()
                    + "); torch.save stores"
                    + " storages uncompressed, so re-save it with torch.save");
        }
        long width = Checkpoint.dtypeBytes(s.dtype());
        if (entry.getSize() != s.elements() * width) {
            throw new SlimException(file + ": " + name + " holds " + entry.getSize() + " bytes but its "
                    + s.elements() + " "
                    + s.dtype() + " elements need " + s.elements() * width);
        }
        if (entry.getDataOffset() < 0 || entry.getDataOffset() + entry.getSize() > fileSize) {
            throw new SlimException(
                    file + ": " + name + " runs past the end of the file (" + fileSize + " bytes): truncated?");
        }
        return entry;
    }

    /** A contiguous tensor within its storage's bytes; slim reads no other layout. */
    private static TensorInfo tensor(Path file, String name, TorchPickle.Tensor t, ZipArchiveEntry storage) {
        String where = file + ": tensor '" + name + "': ";
        long[] shape = t.shape();
        long elements = 1, expectedStride = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] < 0 || t.stride().length != shape.length) {
                throw new SlimException(where + "malformed shape or stride");
            }
            if (shape[d] != 1 && t.stride()[d] != expectedStride) {
                throw new SlimException(where + "stride " + Arrays.toString(t.stride()) + " for shape "
                        + Arrays.toString(shape)
                        + " is not contiguous; slim reads contiguous tensors only (save tensor.contiguous())");
            }
            expectedStride *= shape[d];
            elements = Math.multiplyExact(elements, shape[d]);
        }
        long width = Checkpoint.dtypeBytes(t.storage().dtype());
        if (t.offset() < 0 || t.offset() + elements > t.storage().elements()) {
            throw new SlimException(where + "elements [" + t.offset() + ", " + (t.offset() + elements)
                    + ") lie outside its storage of "
                    + t.storage().elements());
        }
        long begin = storage.getDataOffset() + t.offset() * width;
        return new TensorInfo(name, t.storage().dtype(), shape, file, begin, begin + elements * width);
    }
}
