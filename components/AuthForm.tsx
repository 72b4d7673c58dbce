import { Logo } from "./Layout.tsx";

export interface AuthFormProps {
  mode: "login" | "register";
  values?: { username?: string; displayName?: string };
  errors?: Record<string, string>;
}

function Field(
  props: {
    name: string;
    label: string;
    type?: string;
    value?: string;
    error?: string;
    hint?: string;
    autocomplete: string;
    required?: boolean;
  },
) {
  const id = `f-${props.name}`;
  const describedBy = props.error ? `${id}-error` : props.hint ? `${id}-hint` : undefined;
  return (
    <div>
      <label for={id} class="block text-sm font-medium text-slate-700">{props.label}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        value={props.value ?? ""}
        autocomplete={props.autocomplete}
        required={props.required}
        aria-invalid={props.error ? "true" : undefined}
        aria-describedby={describedBy}
        class={`mt-1 block w-full rounded-lg border px-3 py-2 text-slate-900 shadow-sm outline-none focus:ring-2 focus:ring-indigo-500 ${
          props.error ? "border-red-400 bg-red-50" : "border-slate-300 bg-white"
        }`}
      />
      {props.error
        ? <p id={`${id}-error`} class="mt-1 text-sm text-red-600">{props.error}</p>
        : props.hint
        ? <p id={`${id}-hint`} class="mt-1 text-xs text-slate-500">{props.hint}</p>
        : null}
    </div>
  );
}

/** The sign-in and sign-up form: plain HTML that works without JavaScript. */
export function AuthForm(props: AuthFormProps) {
  const isLogin = props.mode === "login";
  const errors = props.errors ?? {};
  return (
    <main class="flex min-h-full items-center justify-center px-4 py-12">
      <div class="w-full max-w-sm">
        <div class="mb-8 flex flex-col items-center gap-3 text-center">
          <Logo size={48} />
          <h1 class="text-2xl font-semibold tracking-tight">
            {isLogin ? "Welcome back to Parley" : "Create your Parley account"}
          </h1>
          <p class="text-sm text-slate-500">
            {isLogin
              ? "Sign in to pick up your conversations."
              : "Chat one-to-one and in groups, in real time."}
          </p>
        </div>
        <form
          method="post"
          action={isLogin ? "/login" : "/register"}
          class="space-y-5 rounded-2xl border border-slate-200 bg-white p-6 shadow-sm"
          novalidate
        >
          {errors.form
            ? (
              <p role="alert" class="rounded-lg bg-red-50 px-3 py-2 text-sm text-red-700">
                {errors.form}
              </p>
            )
            : null}
          <Field
            name="username"
            label="Username"
            value={props.values?.username}
            error={errors.username}
            autocomplete="username"
            hint={isLogin ? undefined : "3–32 characters: letters, digits, underscores."}
            required
          />
          {isLogin ? null : (
            <Field
              name="displayName"
              label="Display name (optional)"
              value={props.values?.displayName}
              error={errors.displayName}
              autocomplete="name"
            />
          )}
          <Field
            name="password"
            label="Password"
            type="password"
            error={errors.password}
            autocomplete={isLogin ? "current-password" : "new-password"}
            hint={isLogin ? undefined : "At least 8 characters."}
            required
          />
          <button
            type="submit"
            class="w-full rounded-lg bg-indigo-600 px-4 py-2.5 font-medium text-white shadow-sm hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2"
          >
            {isLogin ? "Sign in" : "Create account"}
          </button>
        </form>
        <p class="mt-6 text-center text-sm text-slate-600">
          {isLogin ? "New to Parley? " : "Already have an account? "}
          <a
            href={isLogin ? "/register" : "/login"}
            class="font-medium text-indigo-600 hover:text-indigo-700 focus:outline-none focus-visible:underline"
          >
            {isLogin ? "Create an account" : "Sign in"}
          </a>
        </p>
      </div>
    </main>
  );
}
