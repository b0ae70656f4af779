package slim.experiments.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;
import slim.data.Setting;
import slim.data.Task;
import slim.nn.model.Pooling;

/** Turns the study's names on the command line into their types, with messages that list the choices. */
final class Converters {
    private Converters() {}

    static final class TaskConverter implements ITypeConverter<Task> {
        @Override
        public Task convert(String value) {
            try {
                return Task.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    static final class SettingConverter implements ITypeConverter<Setting> {
        @Override
        public Setting convert(String value) {
            try {
                return Setting.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    static final class PoolingConverter implements ITypeConverter<Pooling> {
        @Override
        public Pooling convert(String value) {
            try {
                return Pooling.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
