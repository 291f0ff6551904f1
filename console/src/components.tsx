import { h, type ComponentChildren, type ComponentType } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';

/** Loads something when `key` changes; `reload` loads it again. */
export function useLoad<T>(load: () => Promise<T>, key: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({
    loading: true,
  });
  const generation = useRef(0);
  const reload = useCallback(() => {
    const mine = (generation.current += 1);
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => mine === generation.current && setState({ data, loading: false }),
      (error: Error) => mine === generation.current && setState({ error, loading: false }),
    );
    // `key` lists what `load` depends on, as a useEffect dependency list would.
  }, key);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

export function ErrorMessage({ error }: { error: Error | undefined }) {
  if (!error) return null;
  const detail = error instanceof ApiError ? error.problem : undefined;
  return (
    <div class="error" role="alert">
      <strong>{detail ? `${detail.status} ${detail.title}` : 'Something went wrong'}</strong>
      {detail?.detail || !detail ? <p>{detail?.detail ?? error.message}</p> : null}
    </div>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${status}`}>{status}</span>;
}

/** The page's heading, focused when the page opens so keyboard and screen-reader users land on it. */
export function PageTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

/** A modal dialog (native <dialog>: focus trapped, Escape closes). */
export function Dialog(props: {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={props.onClose}>
      <h2 id={titleId}>{props.title}</h2>
      {props.children}
    </dialog>
  );
}

/**
 * A page whose code is its own chunk, fetched the first time the page is shown: the first page's
 * script stays small (the jobs list is in the main chunk), and the other pages cost one local
 * request the first time they open.
 */
export function lazyPage<P extends object>(
  load: () => Promise<ComponentType<P>>,
): ComponentType<P> {
  let loaded: ComponentType<P> | undefined;
  let loading: Promise<ComponentType<P>> | undefined;
  return function LazyPage(props: P) {
    const [page, setPage] = useState(() => loaded);
    const [error, setError] = useState<Error | undefined>();
    useEffect(() => {
      if (page) return;
      loading ??= load();
      loading.then(
        (component) => {
          loaded = component;
          setPage(() => component);
        },
        (failure: Error) => {
          // A later visit tries again (a deploy may have replaced the chunk meanwhile).
          loading = undefined;
          setError(failure);
        },
      );
    }, []);
    if (error) return <ErrorMessage error={error} />;
    if (!page) return <p aria-live="polite">Loading…</p>;
    return h(page, props);
  };
}
