// Fills an XForm with JavaRosa (the form engine inside ODK Collect), as Collect does, for
// campo's tests: the form's own binds, constraints and calculations, its media files read
// from a folder, its instance serialised as Collect submits it. Test support only; it runs
// against the JavaRosa that pyxform ships inside ODK Validate.
//
//   java -cp ODK_Validate.jar:<dir> FormFiller <form.xml> <media dir>
//
// Reads commands on stdin, one per line, and answers each on stdout:
//   answer <ref> <value>   -> ok | constraint | required | invalid <reason>
//   value <ref>            -> the node's value now (a calculation's result, say)
//   eval <xpath>           -> an expression's value, as the form's engine computes it
//   submit                 -> the finished instance XML, base64, on one line
import java.io.BufferedReader;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import org.javarosa.core.model.FormDef;
import org.javarosa.core.model.FormIndex;
import org.javarosa.core.model.data.AnswerDataFactory;
import org.javarosa.core.model.data.IAnswerData;
import org.javarosa.core.model.data.UncastData;
import org.javarosa.core.model.instance.InstanceInitializationFactory;
import org.javarosa.core.model.instance.TreeElement;
import org.javarosa.core.reference.PrefixedRootFactory;
import org.javarosa.core.reference.Reference;
import org.javarosa.core.reference.ReferenceManager;
import org.javarosa.core.services.IPropertyManager;
import org.javarosa.core.services.PropertyManager;
import org.javarosa.core.services.properties.IPropertyRules;
import org.javarosa.form.api.FormEntryController;
import org.javarosa.form.api.FormEntryModel;
import org.javarosa.form.api.FormEntryPrompt;
import org.javarosa.model.xform.XFormSerializingVisitor;
import org.javarosa.model.xform.XPathReference;
import org.javarosa.xform.util.XFormUtils;
import org.javarosa.xpath.XPathParseTool;
import org.javarosa.xpath.expr.XPathFuncExpr;

public final class FormFiller {
    /** jr://file/... and jr://file-csv/... as files of the media folder, as Collect keeps them. */
    private static final class MediaFolder extends PrefixedRootFactory {
        private final File folder;

        MediaFolder(File folder) {
            super(new String[] {"file-csv", "file"}); // longest first: "file" would match both
            this.folder = folder;
        }

        @Override
        protected Reference factory(String terminal, String uri) {
            File file = new File(folder, terminal);
            return new Reference() {
                public boolean doesBinaryExist() { return file.exists(); }
                public InputStream getStream() throws IOException { return new FileInputStream(file); }
                public String getURI() { return uri; }
                public String getLocalURI() { return file.getAbsolutePath(); }
                public boolean isReadOnly() { return true; }
                public OutputStream getOutputStream() { throw new UnsupportedOperationException(); }
                public void remove() { throw new UnsupportedOperationException(); }
                public Reference[] probeAlternativeReferences() { return new Reference[0]; }
            };
        }
    }

    /** The phone's properties, as Collect answers them (its device id). */
    private static final class Phone implements IPropertyManager {
        public List<String> getProperty(String name) {
            String value = getSingularProperty(name);
            return value == null ? null : Collections.singletonList(value);
        }
        public void setProperty(String name, String value) {}
        public void setProperty(String name, List<String> values) {}
        public String getSingularProperty(String name) {
            return name.equals("deviceid") ? "collect:javarosa-test" : null;
        }
        public void addRules(IPropertyRules rules) {}
        public List<IPropertyRules> getRules() { return Collections.emptyList(); }
    }

    public static void main(String[] args) throws Exception {
        PropertyManager.setPropertyManager(new Phone());
        ReferenceManager.instance().addReferenceFactory(new MediaFolder(new File(args[1])));
        FormDef form;
        try (InputStream in = new FileInputStream(args[0])) {
            form = XFormUtils.getFormFromInputStream(in);
        }
        form.initialize(true, new InstanceInitializationFactory());
        FormEntryModel model = new FormEntryModel(form);
        FormEntryController controller = new FormEntryController(model);
        BufferedReader lines = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = lines.readLine()) != null) {
            String[] parts = line.split(" ", 3);
            if (parts[0].equals("submit")) {
                form.postProcessInstance();
                byte[] xml = new XFormSerializingVisitor().serializeInstance(form.getInstance());
                System.out.println(Base64.getEncoder().encodeToString(xml));
            } else if (parts[0].equals("eval")) {
                String expression = line.substring("eval ".length());
                Object result = XPathParseTool.parseXPath(expression).eval(
                        form.getMainInstance(), form.getEvaluationContext());
                System.out.println(XPathFuncExpr.toString(XPathFuncExpr.unpack(result)));
            } else if (parts[0].equals("value")) {
                TreeElement node = form.getMainInstance().resolveReference(
                        XPathReference.getPathExpr(parts[1]).getReference());
                IAnswerData value = node == null ? null : node.getValue();
                System.out.println(value == null ? "" : value.uncast().getString());
            } else if (parts[0].equals("answer")) {
                System.out.println(answer(controller, model, parts[1], parts.length > 2 ? parts[2] : ""));
            } else {
                System.out.println("invalid unknown command");
            }
            System.out.flush();
        }
    }

    private static String answer(FormEntryController controller, FormEntryModel model, String ref, String value) {
        controller.jumpToIndex(FormIndex.createBeginningOfFormIndex());
        int event;
        while ((event = controller.stepToNextEvent()) != FormEntryController.EVENT_END_OF_FORM) {
            if (event != FormEntryController.EVENT_QUESTION) continue;
            FormEntryPrompt prompt = model.getQuestionPrompt();
            if (!prompt.getIndex().getReference().genericize().toString(false).equals(ref)) continue;
            IAnswerData data = null;
            if (!value.isEmpty()) {
                try {
                    data = AnswerDataFactory.templateByDataType(prompt.getDataType()).cast(new UncastData(value));
                } catch (IllegalArgumentException e) {
                    return "invalid " + e.getMessage();
                }
            }
            int result = controller.answerQuestion(prompt.getIndex(), data, true);
            if (result == FormEntryController.ANSWER_OK) return "ok";
            if (result == FormEntryController.ANSWER_CONSTRAINT_VIOLATED) return "constraint";
            return "required";
        }
        return "invalid no relevant question " + ref;
    }
}
