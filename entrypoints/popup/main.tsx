import { render } from 'preact';
import { PopupView } from '../../components/PopupView';
import '../../assets/pages.css';

render(<PopupView />, document.getElementById('app')!);
